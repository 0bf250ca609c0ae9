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
