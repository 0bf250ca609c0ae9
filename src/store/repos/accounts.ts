import type { Kysely, Selectable } from 'kysely';
import { GatehouseError } from '../../core/errors.ts';
import type { Account, NewAccount } from '../../core/model.ts';
import type { AccountStore } from '../../core/store.ts';
import type { Engine } from '../engine.ts';
import type { AccountsTable, Database } from '../schema.ts';
import { fromMillis, toMillis } from './time.ts';

export function accountRepo(db: Kysely<Database>, engine: Engine): AccountStore {
  async function withGroups(rows: Selectable<AccountsTable>[]): Promise<Account[]> {
    if (rows.length === 0) return [];
    const memberships = await db
      .selectFrom('account_groups')
      .select(['account_id', 'group_name'])
      .where(
        'account_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('group_name')
      .execute();
    return rows.map((row) =>
      toAccount(
        row,
        memberships.filter((m) => m.account_id === row.id),
      ),
    );
  }

  return {
    async insert(account: NewAccount) {
      try {
        await db
          .insertInto('accounts')
          .values({
            id: account.id,
            email: account.email,
            display_name: account.displayName,
            password_hash: account.passwordHash,
            shared_mailbox: account.sharedMailbox ? 1 : 0,
            mfa_enabled: 0,
            mfa_enabled_at: null,
            created_at: toMillis(account.createdAt),
          })
          .execute();
      } catch (error) {
        if (engine.isUniqueViolation(error)) throw new GatehouseError('account_exists');
        throw error;
      }
      if (account.groups.length > 0) {
        await db
          .insertInto('groups')
          .values(account.groups.map((name) => ({ name, mfa_excluded: 0, exclusion_message: null })))
          .onConflict((oc) => oc.column('name').doNothing())
          .execute();
        await db
          .insertInto('account_groups')
          .values(account.groups.map((group_name) => ({ account_id: account.id, group_name })))
          .execute();
      }
    },

    async findByEmail(email) {
      const row = await db.selectFrom('accounts').selectAll().where('email', '=', email).executeTakeFirst();
      return row ? (await withGroups([row]))[0] : undefined;
    },

    async findById(id) {
      const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? (await withGroups([row]))[0] : undefined;
    },

    async list(page = { limit: 1000, offset: 0 }) {
      const rows = await db
        .selectFrom('accounts')
        .selectAll()
        .orderBy('email')
        .limit(page.limit)
        .offset(page.offset)
        .execute();
      return withGroups(rows);
    },

    async remove(id) {
      const result = await db.deleteFrom('accounts').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async updatePasswordHash(id, passwordHash) {
      await db.updateTable('accounts').set({ password_hash: passwordHash }).where('id', '=', id).execute();
    },

    async enableMfa(id, at) {
      const result = await db
        .updateTable('accounts')
        .set({ mfa_enabled: 1, mfa_enabled_at: toMillis(at) })
        .where('id', '=', id)
        .where('mfa_enabled', '=', 0)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

function toAccount(row: Selectable<AccountsTable>, memberships: { group_name: string }[]): Account {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    passwordHash: row.password_hash,
    sharedMailbox: row.shared_mailbox === 1,
    mfaEnabled: row.mfa_enabled === 1,
    mfaEnabledAt: row.mfa_enabled_at === null ? null : fromMillis(row.mfa_enabled_at),
    createdAt: fromMillis(row.created_at),
    groups: memberships.map((m) => m.group_name),
  };
}
