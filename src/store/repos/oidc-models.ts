import { type Kysely, type Selectable, sql } from 'kysely';
import type { OidcModel, OidcModelStore } from '../../core/store.ts';
import type { Database, OidcModelsTable } from '../schema.ts';
import { optionalDate, toMillis } from './time.ts';

export function oidcModelRepo(db: Kysely<Database>): OidcModelStore {
  // Expiry is checked by the caller against its clock; expired rows are swept by removeExpired.
  const live = (model: string) => db.selectFrom('oidc_models').selectAll().where('model', '=', model);
  return {
    async upsert(model, id, record) {
      const values = {
        payload: JSON.stringify(record.payload),
        grant_id: record.grantId ?? null,
        user_code: record.userCode ?? null,
        uid: record.uid ?? null,
        expires_at: record.expiresAt ? toMillis(record.expiresAt) : null,
        consumed_at: record.consumedAt ? toMillis(record.consumedAt) : null,
        account_id: record.accountId ?? null,
        client_id: record.clientId ?? null,
      };
      await db
        .insertInto('oidc_models')
        .values({ model, id, ...values })
        // Saving a record again never makes a consumed one usable again.
        .onConflict((oc) =>
          oc.columns(['model', 'id']).doUpdateSet({
            ...values,
            consumed_at: sql`coalesce(excluded.consumed_at, oidc_models.consumed_at)`,
          }),
        )
        .execute();
    },
    async find(model, id) {
      const row = await live(model).where('id', '=', id).executeTakeFirst();
      return row ? toRecord(row) : undefined;
    },
    async findByUid(model, uid) {
      const row = await live(model).where('uid', '=', uid).executeTakeFirst();
      return row ? { id: row.id, record: toRecord(row) } : undefined;
    },
    async findByUserCode(model, userCode) {
      const row = await live(model).where('user_code', '=', userCode).executeTakeFirst();
      return row ? { id: row.id, record: toRecord(row) } : undefined;
    },
    async consume(model, id, at) {
      const result = await db
        .updateTable('oidc_models')
        .set({ consumed_at: toMillis(at) })
        .where('model', '=', model)
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async destroy(model, id) {
      await db.deleteFrom('oidc_models').where('model', '=', model).where('id', '=', id).execute();
    },
    async revokeByGrantId(grantId) {
      await db.deleteFrom('oidc_models').where('grant_id', '=', grantId).execute();
    },
    async removeAllForAccount(accountId) {
      const result = await db
        .deleteFrom('oidc_models')
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async removeAllForClient(clientId) {
      const result = await db.deleteFrom('oidc_models').where('client_id', '=', clientId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async removeExpired(now) {
      const result = await db
        .deleteFrom('oidc_models')
        .where('expires_at', '<=', toMillis(now))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toRecord(row: Selectable<OidcModelsTable>): OidcModel {
  return {
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    grantId: row.grant_id ?? undefined,
    userCode: row.user_code ?? undefined,
    uid: row.uid ?? undefined,
    expiresAt: optionalDate(row.expires_at),
    consumedAt: optionalDate(row.consumed_at),
    accountId: row.account_id ?? undefined,
    clientId: row.client_id ?? undefined,
  };
}
