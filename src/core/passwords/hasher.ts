import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { normalisedPassword, passwordForms } from './normalise.ts';

// The library exports its algorithms as a const enum, which isolated modules cannot read.
const ARGON2ID = 2 as Algorithm;

/** argon2id parameters; OWASP's minimum is 19 MiB of memory with 2 iterations. */
export interface Argon2Parameters {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

export const OWASP_ARGON2ID: Argon2Parameters = { memoryKiB: 19456, iterations: 2, parallelism: 1 };

/** Passwords are hashed in NFC and verified in any form canonically equivalent to it (normalise.ts). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /** True when the hash was made with other parameters than the current ones. */
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
  return {
    hash: (password) => hash(normalisedPassword(password), options),
    async verify(passwordHash, password) {
      for (const form of passwordForms(password)) {
        try {
          if (await verify(passwordHash, form)) return true;
        } catch {
          return false; // a malformed stored hash never verifies
        }
      }
      return false;
    },
    needsRehash: (passwordHash) => !passwordHash.startsWith(current),
  };
}
