import { pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { verify as bcryptVerify } from '@node-rs/bcrypt';
import { GatehouseError } from '../errors.ts';

/**
 * Password hashes brought across from another system by `users import`, in their usual
 * encodings. Each is parsed and judged at import; at sign-in it is verified with its own
 * algorithm, and then replaced by an argon2id hash at the current parameters (sign-in.ts).
 *
 * - argon2id, PHC string: `$argon2id$v=19$m=<KiB>,t=<iterations>,p=<lanes>$<salt>$<hash>`
 * - bcrypt: `$2a$`, `$2b$`, `$2y$` with a two-digit cost
 * - PBKDF2-SHA256, passlib: `$pbkdf2-sha256$<rounds>$<salt ab64>$<hash ab64>`
 * - PBKDF2-SHA256, Django: `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`
 *
 * Parameters too weak to keep until the next sign-in are refused, and so are parameters so
 * costly that verifying them would let one sign-in tie up the server.
 */
export type StoredHashScheme = 'argon2id' | 'bcrypt' | 'pbkdf2-sha256';

export const IMPORTED_HASH_LIMITS = {
  /** OWASP's floor for argon2id: m ≥ 7 MiB, and m × t at least its 7 MiB × 5 pairing. */
  argon2MinMemoryKiB: 7168,
  argon2MinMemoryTimesIterations: 7168 * 5,
  argon2MaxMemoryKiB: 262_144,
  argon2MaxIterations: 16,
  argon2MaxParallelism: 16,
  bcryptMinCost: 8,
  bcryptMaxCost: 15,
  pbkdf2MinIterations: 10_000,
  pbkdf2MaxIterations: 5_000_000,
} as const;

interface Pbkdf2Hash {
  scheme: 'pbkdf2-sha256';
  iterations: number;
  salt: Buffer;
  hash: Buffer;
}

export type ParsedStoredHash = { scheme: 'argon2id' | 'bcrypt'; encoded: string } | Pbkdf2Hash;

const ARGON2ID = /^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;
const BCRYPT = /^\$(2[abyx]?)\$(\d{2})\$[./A-Za-z0-9]{53}$/;
const PASSLIB_PBKDF2 = /^\$pbkdf2-sha256\$(\d+)\$([./A-Za-z0-9]*)\$([./A-Za-z0-9]+)$/;
const DJANGO_PBKDF2 = /^pbkdf2_sha256\$(\d+)\$([^$]*)\$([A-Za-z0-9+/]+={0,2})$/;

function invalid(reason: string): never {
  throw new GatehouseError('password_hash_invalid', undefined, { reason });
}

/** passlib's "adapted base64": standard base64 with "." for "+" and no padding. */
function ab64(text: string): Buffer {
  return Buffer.from(text.replace(/\./g, '+'), 'base64');
}

function inRange(name: string, value: number, min: number, max: number): void {
  if (value < min) invalid(`${name} ${value} is below the minimum of ${min}`);
  if (value > max) invalid(`${name} ${value} is above the maximum of ${max}`);
}

/**
 * Reads a hash as imported; throws GatehouseError `password_hash_invalid` (details.reason says
 * why) when it is malformed, of a scheme not supported, or outside the limits above.
 */
export function parseImportedHash(text: string): ParsedStoredHash {
  const value = text.trim();
  const L = IMPORTED_HASH_LIMITS;
  if (value.startsWith('$argon2')) {
    const m = ARGON2ID.exec(value);
    if (!value.startsWith('$argon2id$')) invalid('only argon2id is supported of the argon2 family');
    if (!m) invalid('not a well-formed argon2id PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)');
    const [version, memory, iterations, lanes] = m.slice(1, 5).map(Number) as [
      number,
      number,
      number,
      number,
    ];
    if (version !== 19) invalid(`argon2 version ${version} is not supported (only v=19)`);
    inRange('argon2id memory (KiB)', memory, L.argon2MinMemoryKiB, L.argon2MaxMemoryKiB);
    inRange('argon2id iterations', iterations, 1, L.argon2MaxIterations);
    inRange('argon2id parallelism', lanes, 1, L.argon2MaxParallelism);
    if (memory * iterations < L.argon2MinMemoryTimesIterations)
      invalid(`argon2id m=${memory},t=${iterations} is weaker than m=7168,t=5`);
    if (Buffer.from(m[5] ?? '', 'base64').length < 8) invalid('the argon2id salt is shorter than 8 bytes');
    if (Buffer.from(m[6] ?? '', 'base64').length < 16) invalid('the argon2id hash is shorter than 16 bytes');
    return { scheme: 'argon2id', encoded: value };
  }
  if (value.startsWith('$2')) {
    const m = BCRYPT.exec(value);
    if (!m) invalid('not a well-formed bcrypt hash ($2b$<cost>$<53 characters>)');
    if (!['2a', '2b', '2y'].includes(m[1] ?? '')) invalid(`bcrypt version $${m[1]}$ is not supported`);
    const cost = Number(m[2]);
    inRange('bcrypt cost', cost, L.bcryptMinCost, L.bcryptMaxCost);
    return { scheme: 'bcrypt', encoded: value };
  }
  const passlib = value.startsWith('$pbkdf2-sha256$');
  const django = value.startsWith('pbkdf2_sha256$');
  if (passlib || django) {
    const m = (passlib ? PASSLIB_PBKDF2 : DJANGO_PBKDF2).exec(value);
    if (!m)
      invalid(
        passlib
          ? 'not a well-formed passlib hash ($pbkdf2-sha256$<rounds>$<salt>$<hash>)'
          : 'not a well-formed Django hash (pbkdf2_sha256$<iterations>$<salt>$<hash>)',
      );
    const iterations = Number(m[1]);
    inRange('PBKDF2 iterations', iterations, L.pbkdf2MinIterations, L.pbkdf2MaxIterations);
    // passlib encodes the salt's bytes; Django uses the salt text itself.
    const salt = passlib ? ab64(m[2] ?? '') : Buffer.from(m[2] ?? '', 'utf8');
    const hash = passlib ? ab64(m[3] ?? '') : Buffer.from(m[3] ?? '', 'base64');
    if (salt.length < 8) invalid('the PBKDF2 salt is shorter than 8 bytes');
    if (hash.length < 16 || hash.length > 64) invalid('the PBKDF2 hash is not 16 to 64 bytes long');
    return { scheme: 'pbkdf2-sha256', iterations, salt, hash };
  }
  if (/^\$?pbkdf2/i.test(value)) invalid('only PBKDF2 with SHA-256 is supported');
  invalid('not a supported hash (argon2id, bcrypt $2a$/$2b$/$2y$, PBKDF2-SHA256 passlib or Django)');
}

/** The scheme of a stored hash, or undefined when it is none that Gatehouse verifies. */
export function storedHashScheme(stored: string): StoredHashScheme | undefined {
  if (stored.startsWith('$argon2id$')) return 'argon2id';
  if (stored.startsWith('$2')) return 'bcrypt';
  if (stored.startsWith('$pbkdf2-sha256$') || stored.startsWith('pbkdf2_sha256$')) return 'pbkdf2-sha256';
  return undefined;
}

const pbkdf2Async = promisify(pbkdf2);

/**
 * Verifies one form of a password against a bcrypt or PBKDF2 hash (argon2id is the hasher's
 * own). False for a malformed hash. PBKDF2 runs on libuv's thread pool and is compared in
 * constant time; bcrypt's own verify compares in constant time.
 */
export async function verifyLegacyHash(stored: string, password: string): Promise<boolean> {
  let parsed: ParsedStoredHash;
  try {
    parsed = parseStored(stored);
  } catch {
    return false;
  }
  if (parsed.scheme === 'bcrypt') return bcryptVerify(password, parsed.encoded).catch(() => false);
  if (parsed.scheme === 'pbkdf2-sha256') {
    const derived = await pbkdf2Async(password, parsed.salt, parsed.iterations, parsed.hash.length, 'sha256');
    return timingSafeEqual(derived, parsed.hash);
  }
  return false;
}

/** Parses a stored hash for verification: the format checks of the import, without its limits. */
function parseStored(stored: string): ParsedStoredHash {
  if (stored.startsWith('$2')) {
    if (!BCRYPT.exec(stored)) invalid('malformed');
    return { scheme: 'bcrypt', encoded: stored };
  }
  const passlib = stored.startsWith('$pbkdf2-sha256$');
  const m = (passlib ? PASSLIB_PBKDF2 : DJANGO_PBKDF2).exec(stored);
  if (!m) invalid('malformed');
  const salt = passlib ? ab64(m[2] ?? '') : Buffer.from(m[2] ?? '', 'utf8');
  const hash = passlib ? ab64(m[3] ?? '') : Buffer.from(m[3] ?? '', 'base64');
  const iterations = Number(m[1]);
  if (hash.length === 0 || !Number.isSafeInteger(iterations) || iterations < 1) invalid('malformed');
  return { scheme: 'pbkdf2-sha256', iterations, salt, hash };
}
