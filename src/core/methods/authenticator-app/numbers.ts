import type { Random } from '../../clock.ts';

/** A two-digit number (10-99) for number matching, never the same as the previous one. */
export function newMatchingNumber(random: Random, previous: string | undefined): string {
  for (;;) {
    const byte = random.bytes(1)[0] ?? 0;
    if (byte >= 180) continue; // 180 = 2 * 90: keeps every number equally likely
    const number = String(10 + (byte % 90));
    if (number !== previous) return number;
  }
}
