import type { Kysely, Selectable } from 'kysely';
import type { Session, SessionStage } from '../../core/model.ts';
import type { SessionStore } from '../../core/store.ts';
import type { Database, SessionsTable } from '../schema.ts';
import { fromMillis, optionalDate, toMillis } from './time.ts';

export function sessionRepo(db: Kysely<Database>): SessionStore {
  return {
    async insert(s) {
      await db
        .insertInto('sessions')
        .values({
          id_hash: s.idHash,
          account_id: s.accountId,
          stage: s.stage,
          created_at: toMillis(s.createdAt),
          last_seen_at: toMillis(s.lastSeenAt),
          idle_expires_at: toMillis(s.idleExpiresAt),
          absolute_expires_at: toMillis(s.absoluteExpiresAt),
          flash: s.flash,
          factors: JSON.stringify(s.factors),
          return_to: s.returnTo ?? null,
          mfa_proved_at: s.mfaProvedAt ? toMillis(s.mfaProvedAt) : null,
        })
        .execute();
    },
    async find(idHash) {
      const row = await db
        .selectFrom('sessions')
        .selectAll()
        .where('id_hash', '=', idHash)
        .executeTakeFirst();
      return row ? toSession(row) : undefined;
    },
    async touch(idHash, lastSeenAt, idleExpiresAt) {
      await db
        .updateTable('sessions')
        .set({ last_seen_at: toMillis(lastSeenAt), idle_expires_at: toMillis(idleExpiresAt) })
        .where('id_hash', '=', idHash)
        .execute();
    },
    async move(idHash, from, to) {
      const result = await db
        .updateTable('sessions')
        .set({
          id_hash: to.idHash,
          stage: to.stage,
          factors: JSON.stringify(to.factors),
          mfa_proved_at: to.mfaProvedAt ? toMillis(to.mfaProvedAt) : null,
          return_to: to.returnTo,
        })
        .where('id_hash', '=', idHash)
        .where('stage', '=', from)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async carryRecords(from, to) {
      for (const table of ['activations', 'push_requests', 'phone_challenges'] as const) {
        await db.updateTable(table).set({ session_hash: to }).where('session_hash', '=', from).execute();
      }
    },
    async setReturnTo(idHash, returnTo) {
      await db.updateTable('sessions').set({ return_to: returnTo }).where('id_hash', '=', idHash).execute();
    },
    async setFlash(idHash, flash) {
      await db.updateTable('sessions').set({ flash }).where('id_hash', '=', idHash).execute();
    },
    async takeFlash(idHash) {
      // A conditional update returning the old value would need engine-specific SQL; the
      // read-then-clear below is safe because a flash is only ever shown, never trusted.
      const row = await db
        .selectFrom('sessions')
        .select('flash')
        .where('id_hash', '=', idHash)
        .executeTakeFirst();
      if (!row?.flash) return null;
      await db.updateTable('sessions').set({ flash: null }).where('id_hash', '=', idHash).execute();
      return row.flash;
    },
    async remove(idHash) {
      await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    },
    async removeAllForAccount(accountId, except) {
      let query = db.deleteFrom('sessions').where('account_id', '=', accountId);
      if (except) query = query.where('id_hash', '!=', except);
      const result = await query.executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async countActive(now) {
      const at = toMillis(now);
      const rows = await db
        .selectFrom('sessions')
        .select((eb) => ['stage', eb.fn.countAll<number | string>().as('count')])
        .where('idle_expires_at', '>', at)
        .where('absolute_expires_at', '>', at)
        .groupBy('stage')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.stage as SessionStage, Number(r.count)]));
    },
    async listForAccount(accountId) {
      const rows = await db
        .selectFrom('sessions')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map(toSession);
    },
    async removeExpired(now) {
      const at = toMillis(now);
      const result = await db
        .deleteFrom('sessions')
        .where((eb) => eb.or([eb('idle_expires_at', '<=', at), eb('absolute_expires_at', '<=', at)]))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toSession(row: Selectable<SessionsTable>): Session {
  return {
    idHash: row.id_hash,
    accountId: row.account_id,
    stage: row.stage as SessionStage,
    createdAt: fromMillis(row.created_at),
    lastSeenAt: fromMillis(row.last_seen_at),
    idleExpiresAt: fromMillis(row.idle_expires_at),
    absoluteExpiresAt: fromMillis(row.absolute_expires_at),
    flash: row.flash,
    factors: JSON.parse(row.factors) as string[],
    returnTo: row.return_to,
    mfaProvedAt: optionalDate(row.mfa_proved_at),
  };
}
