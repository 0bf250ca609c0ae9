import type { GatehouseError } from '../../src/core/errors.ts';
import { argon2idHasher, type PasswordHasher } from '../../src/core/passwords/hasher.ts';

/** How many attempts a concurrency test sends at once. */
export const BURST = 200;

/** Real argon2id (cheap parameters, so 200 checks stay quick) that counts the checks it makes. */
export function countingHasher(): PasswordHasher & { verified: number } {
  const inner = argon2idHasher({ memoryKiB: 1024, iterations: 1, parallelism: 1 });
  const counting = {
    verified: 0,
    hash: (password: string) => inner.hash(password),
    verify(passwordHash: string, password: string) {
      counting.verified++;
      return inner.verify(passwordHash, password);
    },
    needsRehash: (passwordHash: string) => inner.needsRehash(passwordHash),
  };
  return counting;
}

/** The error code each attempt was refused with ('ok' when it went through), in sending order. */
export async function outcomes(attempts: Promise<unknown>[]): Promise<string[]> {
  const settled = await Promise.allSettled(attempts);
  return settled.map((s) =>
    s.status === 'fulfilled' ? 'ok' : ((s.reason as GatehouseError).code ?? 'thrown'),
  );
}

/** How many times each outcome occurred, for assertion messages that show the whole picture. */
export function tally(codes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}

/** A distinct address (the benchmarking range, RFC 2544) for the i-th attacker of a burst. */
export const attacker = (i: number) => `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;
