import type { Kysely, Selectable } from 'kysely';
import type { MethodKind, MethodStatus, MfaMethod } from '../../core/model.ts';
import type { MethodStore } from '../../core/store.ts';
import type { Database, MfaMethodsTable } from '../schema.ts';
import { fromMillis, optionalDate, toMillis } from './time.ts';

export function methodRepo(db: Kysely<Database>): MethodStore {
  return {
    async countForAccount(accountId) {
      const row = await db
        .selectFrom('mfa_methods')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('account_id', '=', accountId)
        .where('status', 'in', ['active', 'suspended'])
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
    async insert(m) {
      await db
        .insertInto('mfa_methods')
        .values({
          id: m.id,
          account_id: m.accountId,
          kind: m.kind,
          label: m.label,
          status: m.status,
          is_default: m.isDefault ? 1 : 0,
          created_at: toMillis(m.createdAt),
          last_used_at: m.lastUsedAt ? toMillis(m.lastUsedAt) : null,
          data: JSON.stringify(m.data),
          last_step: null,
        })
        .execute();
    },
    async find(id) {
      const row = await db.selectFrom('mfa_methods').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toMethod(row) : undefined;
    },
    async listForAccount(accountId) {
      const rows = await db
        .selectFrom('mfa_methods')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .execute();
      return rows.map(toMethod);
    },
    async activate(id) {
      const result = await db
        .updateTable('mfa_methods')
        .set({ status: 'active' })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async suspend(id) {
      const result = await db
        .updateTable('mfa_methods')
        .set({ status: 'suspended' })
        .where('id', '=', id)
        .where('status', '=', 'active')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async remove(id) {
      const result = await db.deleteFrom('mfa_methods').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async touch(id, at) {
      await db
        .updateTable('mfa_methods')
        .set({ last_used_at: toMillis(at) })
        .where('id', '=', id)
        .execute();
    },
    async updateData(id, data) {
      await db
        .updateTable('mfa_methods')
        .set({ data: JSON.stringify(data) })
        .where('id', '=', id)
        .execute();
    },
    async setDefault(accountId, id) {
      await db
        .updateTable('mfa_methods')
        .set((eb) => ({ is_default: eb.case().when('id', '=', id).then(1).else(0).end() }))
        .where('account_id', '=', accountId)
        .execute();
    },
    async removeAllForAccount(accountId) {
      const result = await db
        .deleteFrom('mfa_methods')
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async claimStep(id, step) {
      const result = await db
        .updateTable('mfa_methods')
        .set({ last_step: step })
        .where('id', '=', id)
        .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

function toMethod(row: Selectable<MfaMethodsTable>): MfaMethod {
  return {
    id: row.id,
    accountId: row.account_id,
    kind: row.kind as MethodKind,
    label: row.label,
    status: row.status as MethodStatus,
    isDefault: row.is_default === 1,
    createdAt: fromMillis(row.created_at),
    lastUsedAt: optionalDate(row.last_used_at),
    data: JSON.parse(row.data) as Record<string, unknown>,
  };
}
