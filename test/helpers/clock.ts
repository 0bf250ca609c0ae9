import type { Clock } from '../../src/core/clock.ts';

/** A clock the test moves by hand. */
export function manualClock(start = '2026-06-01T09:00:00Z') {
  let now = new Date(start);
  const clock: Clock & { advanceMinutes(minutes: number): void } = {
    now: () => new Date(now),
    advanceMinutes(minutes) {
      now = new Date(now.getTime() + minutes * 60_000);
    },
  };
  return clock;
}
