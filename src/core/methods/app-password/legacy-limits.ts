import type { Clock } from '../../clock.ts';
import { GatehouseError } from '../../errors.ts';
import type { Store } from '../../store.ts';
import type { ThrottleRule } from '../../throttle/throttle.ts';

const MINUTE = 60_000;

/** The lockouts legacy sign-in shares with nothing else: per address typed, and per client. */
export interface LegacyLimitRules {
  account: ThrottleRule;
  client: ThrottleRule;
}

/** One attempt counted in one key before it is evaluated. */
interface Reservation {
  /** The attempt was not a failure: its place is given back. */
  giveBack(): Promise<void>;
  /** The attempt failed: it stays counted; true when the key is now locked. */
  failed(): Promise<boolean>;
  /** The account's own key starts again after a success (as before reservations). */
  clear(): Promise<void>;
}

/**
 * Reserves one place for `key` in one conditional upsert (store.throttle.reserveAttempt) before
 * the attempt is evaluated: of concurrent attempts at most `maxFailures` get a place in a window;
 * the others, and every attempt while the key is locked, are refused unevaluated (null).
 */
async function reserve(store: Store, clock: Clock, rule: ThrottleRule, key: string) {
  const now = clock.now();
  const state = await store.throttle.reserveAttempt(
    key,
    now,
    new Date(now.getTime() - rule.windowMinutes * MINUTE),
  );
  if ((state.lockedUntil && state.lockedUntil > now) || state.failures > rule.maxFailures) return null;
  const window = state.windowStartedAt;
  const reservation: Reservation = {
    giveBack: () => store.throttle.giveBack(key, window),
    async failed() {
      const until = new Date(clock.now().getTime() + rule.lockMinutes * MINUTE);
      return (await store.throttle.lockIfReached(key, window, rule.maxFailures, until)) !== null;
    },
    clear: () => store.throttle.clear(key),
  };
  return reservation;
}

/**
 * A legacy sign-in's limits, reserved before any hash is verified: the client's first, then the
 * address typed. Either refused: `account_locked`, whatever the credential, nothing verified.
 */
export async function reserveLegacyAttempt(
  ctx: { store: Store; clock: Clock; limits: LegacyLimitRules },
  input: { email: string; clientAddress: string },
) {
  const { store, clock, limits } = ctx;
  const client = await reserve(store, clock, limits.client, `legacy:client:${input.clientAddress}`);
  if (!client) throw new GatehouseError('account_locked');
  const account = await reserve(store, clock, limits.account, `legacy:email:${input.email}`);
  if (!account) {
    await client.giveBack(); // not evaluated, so not one of the client's failures
    throw new GatehouseError('account_locked');
  }
  return {
    /** The client's limit counts failures only; the address typed starts afresh, as before. */
    async succeeded() {
      await client.giveBack();
      await account.clear();
    },
    async failed(): Promise<never> {
      await client.failed();
      if (await account.failed()) throw new GatehouseError('account_locked');
      throw new GatehouseError('invalid_credentials');
    },
  };
}
