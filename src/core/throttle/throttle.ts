import type { Clock } from '../clock.ts';
import type { Store } from '../store.ts';

export interface ThrottleRule {
  /** Failures within the window that lock the key. */
  maxFailures: number;
  windowMinutes: number;
  lockMinutes: number;
}

export interface Throttle {
  /** When the key is locked, the time the lock ends; otherwise null. */
  lockedUntil(key: string): Promise<Date | null>;
  /** Counts a failure; returns the lock's end when this failure locked the key. */
  fail(key: string, store?: Store): Promise<Date | null>;
  reset(key: string): Promise<void>;
  /** Locks the key until `until` whatever its count (e.g. after a report of fraud). */
  block(key: string, until: Date): Promise<void>;
}

const MINUTE = 60_000;

export function throttle(store: Store, clock: Clock, rule: ThrottleRule): Throttle {
  return {
    async lockedUntil(key) {
      const state = await store.throttle.get(key);
      const until = state?.lockedUntil;
      return until && until > clock.now() ? until : null;
    },
    async fail(key, within = store) {
      const now = clock.now();
      const windowStart = new Date(now.getTime() - rule.windowMinutes * MINUTE);
      const state = await within.throttle.countFailure(key, now, windowStart);
      if (state.failures < rule.maxFailures) return null;
      const until = new Date(now.getTime() + rule.lockMinutes * MINUTE);
      await within.throttle.lock(key, until);
      return until;
    },
    reset: (key) => store.throttle.clear(key),
    async block(key, until) {
      const now = clock.now();
      await store.throttle.countFailure(key, now, new Date(now.getTime() - rule.windowMinutes * MINUTE));
      await store.throttle.lock(key, until);
    },
  };
}
