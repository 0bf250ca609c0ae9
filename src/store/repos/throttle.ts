import { type Kysely, sql } from 'kysely';
import type { ThrottleStore } from '../../core/store.ts';
import type { Database } from '../schema.ts';
import { fromMillis, optionalDate, toMillis } from './time.ts';

export function throttleRepo(db: Kysely<Database>): ThrottleStore {
  return {
    async countFailure(key, now, windowStart) {
      const at = toMillis(now);
      const stale = toMillis(windowStart);
      // One statement, so that concurrent failures are all counted (no lost updates).
      const row = await db
        .insertInto('throttle')
        .values({ key, failures: 1, window_started_at: at, locked_until: null })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            failures: sql<number>`CASE WHEN throttle.window_started_at < ${stale} THEN 1 ELSE throttle.failures + 1 END`,
            window_started_at: sql<number>`CASE WHEN throttle.window_started_at < ${stale} THEN ${at} ELSE throttle.window_started_at END`,
          }),
        )
        .returning(['failures', 'window_started_at', 'locked_until'])
        .executeTakeFirstOrThrow();
      return {
        failures: Number(row.failures),
        windowStartedAt: fromMillis(row.window_started_at),
        lockedUntil: optionalDate(row.locked_until),
      };
    },
    async reserveAttempt(key, now, windowStart) {
      const at = toMillis(now);
      const stale = toMillis(windowStart);
      // One statement: concurrent reservations each get their own place in the count. Every SET
      // expression reads the row as it was before the statement, on both engines.
      const locked = sql<boolean>`throttle.locked_until > ${at}`;
      const fresh = sql<boolean>`(throttle.window_started_at < ${stale} OR throttle.locked_until IS NOT NULL)`;
      const row = await db
        .insertInto('throttle')
        .values({ key, failures: 1, window_started_at: at, locked_until: null })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet({
            failures: sql<number>`CASE WHEN ${locked} THEN throttle.failures WHEN ${fresh} THEN 1 ELSE throttle.failures + 1 END`,
            window_started_at: sql<number>`CASE WHEN ${locked} THEN throttle.window_started_at WHEN ${fresh} THEN ${at} ELSE throttle.window_started_at END`,
            locked_until: sql<number | null>`CASE WHEN ${locked} THEN throttle.locked_until ELSE NULL END`,
          }),
        )
        .returning(['failures', 'window_started_at', 'locked_until'])
        .executeTakeFirstOrThrow();
      return {
        failures: Number(row.failures),
        windowStartedAt: fromMillis(row.window_started_at),
        lockedUntil: optionalDate(row.locked_until),
      };
    },
    async lockIfReached(key, windowStartedAt, maxFailures, until) {
      const end = toMillis(until);
      const row = await db
        .updateTable('throttle')
        .set({
          locked_until: sql<number>`CASE WHEN throttle.locked_until > ${end} THEN throttle.locked_until ELSE ${end} END`,
        })
        .where('key', '=', key)
        .where('window_started_at', '=', toMillis(windowStartedAt))
        .where('failures', '>=', maxFailures)
        .returning('locked_until')
        .executeTakeFirst();
      return row ? optionalDate(row.locked_until) : null;
    },
    async giveBack(key, windowStartedAt) {
      await db
        .updateTable('throttle')
        .set({ failures: sql<number>`throttle.failures - 1` })
        .where('key', '=', key)
        .where('window_started_at', '=', toMillis(windowStartedAt))
        .where('failures', '>', 0)
        .execute();
    },
    async lock(key, until) {
      await db
        .updateTable('throttle')
        .set({ locked_until: toMillis(until) })
        .where('key', '=', key)
        .execute();
    },
    async get(key) {
      const row = await db.selectFrom('throttle').selectAll().where('key', '=', key).executeTakeFirst();
      return row
        ? {
            failures: Number(row.failures),
            windowStartedAt: fromMillis(row.window_started_at),
            lockedUntil: optionalDate(row.locked_until),
          }
        : undefined;
    },
    async clear(key) {
      await db.deleteFrom('throttle').where('key', '=', key).execute();
    },
  };
}
