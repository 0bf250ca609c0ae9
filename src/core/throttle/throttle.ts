import type { Clock } from '../clock.ts';
import type { Store } from '../store.ts';

export interface ThrottleRule {
  /** Failures within the window that lock the key. */
  maxFailures: number;
  windowMinutes: number;
  lockMinutes: number;
}

/** An attempt counted before it is evaluated: `reserve` grants it, or refuses it unevaluated. */
export type Reservation =
  | {
      granted: true;
      /** The check passed: the key's count starts again (as `reset`). */
      passed(): Promise<void>;
      /** The check failed: the attempt stays counted; returns the lock's end when the limit is reached. */
      failed(): Promise<Date | null>;
      /** The attempt was not a failure (refused elsewhere, or not checked): it is given back. */
      released(): Promise<void>;
    }
  | {
      granted: false;
      /** When to try again: the lock's end, or when the attempts in flight would have locked it. */
      until: Date;
      /**
       * True when the key is locked (failures reached the limit); false when the limit is only
       * taken by attempts still being checked, which a caller may answer as "busy, try again".
       */
      locked: boolean;
    };

export interface Throttle {
  /**
   * Counts an attempt before it is evaluated, in one conditional store statement, so that of
   * concurrent attempts at most `maxFailures` are evaluated within a window: the others are
   * refused without being checked, as are all attempts while the key is locked.
   */
  reserve(key: string): Promise<Reservation>;
  /** When the key is locked, the time the lock ends; otherwise null. */
  lockedUntil(key: string): Promise<Date | null>;
  /** Counts a failure; returns the lock's end when this failure locked the key. */
  fail(key: string, store?: Store): Promise<Date | null>;
  reset(key: string): Promise<void>;
  /** Locks the key until `until` whatever its count (e.g. after a report of fraud). */
  block(key: string, until: Date): Promise<void>;
  /**
   * A quota rather than a lockout: counts one use of a limited action (a call, a text) first, in
   * one atomic step, then decides, so that concurrent callers cannot all pass a check made before
   * anyone counted. Returns null when this use is within the limit, otherwise when it may be tried
   * again: the lock's end, or the end of the window whose quota is spent, whichever is later.
   */
  consume(key: string): Promise<Date | null>;
}

const MINUTE = 60_000;

export function throttle(store: Store, clock: Clock, rule: ThrottleRule): Throttle {
  return {
    async reserve(key) {
      const now = clock.now();
      const windowStart = new Date(now.getTime() - rule.windowMinutes * MINUTE);
      const state = await store.throttle.reserveAttempt(key, now, windowStart);
      if (state.lockedUntil && state.lockedUntil > now)
        return { granted: false, until: state.lockedUntil, locked: true };
      if (state.failures > rule.maxFailures) {
        // The limit is taken by attempts still being checked: if they fail, they lock the key
        // for lockMinutes; if none does, the count holds until the window ends.
        const windowEnd = new Date(state.windowStartedAt.getTime() + rule.windowMinutes * MINUTE);
        const lockEnd = new Date(now.getTime() + rule.lockMinutes * MINUTE);
        return { granted: false, until: windowEnd > lockEnd ? windowEnd : lockEnd, locked: false };
      }
      const window = state.windowStartedAt;
      return {
        granted: true,
        passed: () => store.throttle.clear(key),
        released: () => store.throttle.giveBack(key, window),
        failed: () => {
          const until = new Date(clock.now().getTime() + rule.lockMinutes * MINUTE);
          return store.throttle.lockIfReached(key, window, rule.maxFailures, until);
        },
      };
    },
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
    async consume(key) {
      const now = clock.now();
      const windowStart = new Date(now.getTime() - rule.windowMinutes * MINUTE);
      const state = await store.throttle.countFailure(key, now, windowStart);
      const locked = state.lockedUntil && state.lockedUntil > now ? state.lockedUntil : null;
      if (!locked && state.failures < rule.maxFailures) return null;
      if (!locked && state.failures === rule.maxFailures) {
        // The last use the quota allows: it goes ahead, and the key locks for those after it.
        await store.throttle.lock(key, new Date(now.getTime() + rule.lockMinutes * MINUTE));
        return null;
      }
      // Refused: locked (a lockout, or a report's block), or over the quota until its window ends.
      const windowEnd = new Date(state.windowStartedAt.getTime() + rule.windowMinutes * MINUTE);
      const quotaEnd = state.failures > rule.maxFailures ? windowEnd : now;
      return locked && locked > quotaEnd ? locked : quotaEnd;
    },
    async block(key, until) {
      const now = clock.now();
      await store.throttle.countFailure(key, now, new Date(now.getTime() - rule.windowMinutes * MINUTE));
      await store.throttle.lock(key, until);
    },
  };
}
