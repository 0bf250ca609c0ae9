import type { Kysely, Selectable } from 'kysely';
import type { PasswordReset, ResetFactor } from '../../core/model.ts';
import type { NudgeStore, PasswordResetStore } from '../../core/store.ts';
import type { Database, PasswordResetsTable } from '../schema.ts';
import { fromMillis, optionalDate, toMillis } from './time.ts';

/** Factors are kept sorted, so that "exactly these factors" is one comparison of text. */
const factorsText = (factors: readonly ResetFactor[]) => JSON.stringify([...factors].sort());

export function passwordResetRepo(db: Kysely<Database>): PasswordResetStore {
  return {
    async insert(r) {
      await db
        .insertInto('password_resets')
        .values({
          id_hash: r.idHash,
          browser_hash: r.browserHash,
          account_id: r.accountId,
          email: r.email,
          factors: factorsText(r.factors),
          created_at: toMillis(r.createdAt),
          expires_at: toMillis(r.expiresAt),
          completed_at: null,
        })
        .execute();
    },
    async find(idHash) {
      const row = await db
        .selectFrom('password_resets')
        .selectAll()
        .where('id_hash', '=', idHash)
        .executeTakeFirst();
      return row ? toReset(row) : undefined;
    },
    async addFactor(idHash, had, factor, now) {
      const result = await db
        .updateTable('password_resets')
        .set({ factors: factorsText([...had, factor]) })
        .where('id_hash', '=', idHash)
        .where('factors', '=', factorsText(had))
        .where('completed_at', 'is', null)
        .where('expires_at', '>', toMillis(now))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async complete(idHash, now) {
      const result = await db
        .updateTable('password_resets')
        .set({ completed_at: toMillis(now) })
        .where('id_hash', '=', idHash)
        .where('completed_at', 'is', null)
        .where('expires_at', '>', toMillis(now))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async removeExpired(now) {
      const result = await db
        .deleteFrom('password_resets')
        .where('expires_at', '<=', toMillis(now))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toReset(row: Selectable<PasswordResetsTable>): PasswordReset {
  return {
    idHash: row.id_hash,
    browserHash: row.browser_hash,
    accountId: row.account_id,
    email: row.email,
    factors: JSON.parse(row.factors) as ResetFactor[],
    createdAt: fromMillis(row.created_at),
    expiresAt: fromMillis(row.expires_at),
    completedAt: optionalDate(row.completed_at),
  };
}

export function nudgeRepo(db: Kysely<Database>): NudgeStore {
  return {
    async find(accountId) {
      const row = await db
        .selectFrom('registration_nudges')
        .selectAll()
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row
        ? { accountId, snoozes: Number(row.snoozes), snoozedUntil: fromMillis(row.snoozed_until) }
        : undefined;
    },
    async snooze(accountId, until, maxSnoozes) {
      const at = toMillis(until);
      const result = await db
        .insertInto('registration_nudges')
        .values({ account_id: accountId, snoozes: 1, snoozed_until: at })
        .onConflict((oc) =>
          oc
            .column('account_id')
            .doUpdateSet((eb) => ({ snoozes: eb('registration_nudges.snoozes', '+', 1), snoozed_until: at }))
            .where('registration_nudges.snoozes', '<', maxSnoozes),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
  };
}
