import { randomBytes } from 'node:crypto';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { normalisedPassword, passwordForms } from './normalise.ts';
import { storedHashScheme, verifyLegacyHash } from './stored-hashes.ts';

// The library exports its algorithms as a const enum, which isolated modules cannot read.
const ARGON2ID = 2 as Algorithm;

/** argon2id parameters; OWASP's minimum is 19 MiB of memory with 2 iterations. */
export interface Argon2Parameters {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

export const OWASP_ARGON2ID: Argon2Parameters = { memoryKiB: 19456, iterations: 2, parallelism: 1 };

/**
 * Passwords are hashed with argon2id in NFC and verified in any form canonically equivalent to it
 * (normalise.ts). Verification also reads the hashes `users import` brings across (bcrypt,
 * PBKDF2-SHA256: stored-hashes.ts); `needsRehash` is true for them, so the next sign-in replaces
 * them with argon2id.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * False for a wrong password, a malformed hash, and an account without a password (null):
   * those cost an argon2id verification too, so their time tells nothing.
   */
  verify(passwordHash: string | null, password: string): Promise<boolean>;
  /** True when the hash is not argon2id at the current parameters (an imported one, or older ones). */
  needsRehash(passwordHash: string): boolean;
}

export function argon2idHasher(parameters: Argon2Parameters = OWASP_ARGON2ID): PasswordHasher {
  const options = {
    algorithm: ARGON2ID,
    memoryCost: parameters.memoryKiB,
    timeCost: parameters.iterations,
    parallelism: parameters.parallelism,
  };
  const current = `$argon2id$v=19$m=${parameters.memoryKiB},t=${parameters.iterations},p=${parameters.parallelism}$`;
  let decoy: Promise<string> | undefined;
  const decoyHash = () => {
    decoy ??= hash(randomBytes(16).toString('hex'), options);
    return decoy;
  };

  async function verifyArgon2(passwordHash: string, form: string): Promise<boolean> {
    try {
      return await verify(passwordHash, form);
    } catch {
      return false; // a malformed stored hash never verifies
    }
  }

  return {
    hash: (password) => hash(normalisedPassword(password), options),
    async verify(passwordHash, password) {
      const scheme = passwordHash === null ? undefined : storedHashScheme(passwordHash);
      if (passwordHash === null || scheme === undefined) {
        // No password, or none Gatehouse reads: as slow as a wrong one, and never true.
        await verifyArgon2(await decoyHash(), password);
        return false;
      }
      for (const form of passwordForms(password)) {
        const ok =
          scheme === 'argon2id'
            ? await verifyArgon2(passwordHash, form)
            : await verifyLegacyHash(passwordHash, form);
        if (ok) return true;
      }
      return false;
    },
    needsRehash: (passwordHash) => !passwordHash.startsWith(current),
  };
}
