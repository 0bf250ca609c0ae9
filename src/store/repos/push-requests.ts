import { type Insertable, type Kysely, type Selectable, sql } from 'kysely';
import type { PushPurpose, PushRequest, PushStatus } from '../../core/model.ts';
import type { PushRequestStore } from '../../core/store.ts';
import type { Engine } from '../engine.ts';
import type { Database, PushRequestsTable } from '../schema.ts';
import { fromMillis, optionalDate, toMillis } from './time.ts';

export function pushRequestRepo(db: Kysely<Database>, engine: Engine): PushRequestStore {
  const pending = (now: Date) =>
    db
      .selectFrom('push_requests')
      .selectAll()
      .where('status', '=', 'pending')
      .where('expires_at', '>', toMillis(now))
      .orderBy('created_at');
  return {
    async insertWithinLimit(r, maxPending, now) {
      const row: Insertable<PushRequestsTable> = {
        id: r.id,
        account_id: r.accountId,
        device_id: r.deviceId,
        purpose: r.purpose,
        number: r.number,
        status: r.status,
        session_hash: r.sessionHash,
        application: r.application,
        client_address: r.clientAddress,
        created_at: toMillis(r.createdAt),
        expires_at: toMillis(r.expiresAt),
        answered_at: null,
      };
      const columns = Object.keys(row) as (keyof typeof row)[];
      const claim = async (trx: Kysely<Database>) => {
        await engine.lockAccount(trx, r.accountId);
        const pendingCount = trx
          .selectFrom('push_requests')
          .select((eb) => eb.fn.countAll().as('pending'))
          .where('account_id', '=', r.accountId)
          .where('status', '=', 'pending')
          .where('expires_at', '>', toMillis(now));
        // INSERT ... SELECT ... WHERE: the count and the insert are one statement.
        const result = await trx
          .insertInto('push_requests')
          .columns(columns)
          .expression(
            trx
              .selectNoFrom(columns.map((column) => sql.val(row[column]).as(column)))
              .where((eb) => eb(pendingCount, '<', maxPending)),
          )
          .executeTakeFirst();
        return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
      };
      return db.isTransaction ? claim(db) : db.transaction().execute(claim);
    },
    async find(id) {
      const row = await db.selectFrom('push_requests').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toRequest(row) : undefined;
    },
    async pendingForDevice(deviceId, now) {
      return (await pending(now).where('device_id', '=', deviceId).execute()).map(toRequest);
    },
    async pendingForAccount(accountId, now) {
      return (await pending(now).where('account_id', '=', accountId).execute()).map(toRequest);
    },
    async latestForSession(sessionHash, purpose) {
      const row = await db
        .selectFrom('push_requests')
        .selectAll()
        .where('session_hash', '=', sessionHash)
        .where('purpose', '=', purpose)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? toRequest(row) : undefined;
    },
    async latestForAccount(accountId) {
      const row = await db
        .selectFrom('push_requests')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? toRequest(row) : undefined;
    },
    async consume(id, sessionHash, now) {
      const result = await db
        .updateTable('push_requests')
        .set({ consumed_at: toMillis(now) })
        .where('id', '=', id)
        .where('session_hash', '=', sessionHash)
        .where('status', '=', 'approved')
        .where('consumed_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async answer(id, status, now) {
      const result = await db
        .updateTable('push_requests')
        .set({ status, answered_at: toMillis(now) })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where('expires_at', '>', toMillis(now))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async cancelPendingForAccount(accountId, now) {
      const rows = await db
        .updateTable('push_requests')
        .set({ status: 'cancelled', answered_at: toMillis(now) })
        .where('account_id', '=', accountId)
        .where('status', '=', 'pending')
        .returning(['id', 'device_id', 'session_hash'])
        .execute();
      return rows.map((r) => ({ id: r.id, deviceId: r.device_id, sessionHash: r.session_hash }));
    },
  };
}

function toRequest(row: Selectable<PushRequestsTable>): PushRequest {
  return {
    id: row.id,
    accountId: row.account_id,
    deviceId: row.device_id,
    purpose: row.purpose as PushPurpose,
    number: row.number,
    status: row.status as PushStatus,
    sessionHash: row.session_hash,
    application: row.application,
    clientAddress: row.client_address,
    createdAt: fromMillis(row.created_at),
    expiresAt: fromMillis(row.expires_at),
    answeredAt: optionalDate(row.answered_at),
  };
}
