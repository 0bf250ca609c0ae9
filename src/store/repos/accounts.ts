import { type Insertable, type Kysely, type Selectable, sql } from 'kysely';
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
    const byAccount = new Map<string, { group_name: string }[]>();
    for (const m of memberships) {
      const list = byAccount.get(m.account_id);
      if (list) list.push(m);
      else byAccount.set(m.account_id, [m]);
    }
    return rows.map((row) => toAccount(row, byAccount.get(row.id) ?? []));
  }

  return {
    async insert(account: NewAccount) {
      try {
        await db.insertInto('accounts').values(accountRow(account)).execute();
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

    async insertMany(accounts, knownGroups = new Set()) {
      const added = new Set<string>();
      // 8 parameters a row; chunks keep every statement below SQLite's and PostgreSQL's limits.
      for (let i = 0; i < accounts.length; i += ACCOUNT_CHUNK) {
        const chunk = accounts.slice(i, i + ACCOUNT_CHUNK);
        const rows = await db
          .insertInto('accounts')
          .values(chunk.map(accountRow))
          .onConflict((oc) => oc.column('email').doNothing())
          .returning('email')
          .execute();
        for (const r of rows) added.add(r.email);
      }
      const inserted = accounts.filter((a) => added.has(a.email));
      const groups = [...new Set(inserted.flatMap((a) => a.groups))].filter((g) => !knownGroups.has(g));
      for (let i = 0; i < groups.length; i += MEMBERSHIP_CHUNK)
        await db
          .insertInto('groups')
          .values(
            groups
              .slice(i, i + MEMBERSHIP_CHUNK)
              .map((name) => ({ name, mfa_excluded: 0, exclusion_message: null })),
          )
          .onConflict((oc) => oc.column('name').doNothing())
          .execute();
      const memberships = inserted.flatMap((a) =>
        [...new Set(a.groups)].map((group_name) => ({ account_id: a.id, group_name })),
      );
      for (let i = 0; i < memberships.length; i += MEMBERSHIP_CHUNK)
        await db
          .insertInto('account_groups')
          .values(memberships.slice(i, i + MEMBERSHIP_CHUNK))
          .execute();
      return added;
    },

    async existingEmails(emails) {
      const found = new Set<string>();
      for (let i = 0; i < emails.length; i += ACCOUNT_CHUNK * 8) {
        const rows = await db
          .selectFrom('accounts')
          .select('email')
          .where('email', 'in', emails.slice(i, i + ACCOUNT_CHUNK * 8))
          .execute();
        for (const r of rows) found.add(r.email);
      }
      return found;
    },

    async listAfter(afterEmail, limit) {
      let query = db.selectFrom('accounts').selectAll().orderBy('email').limit(limit);
      if (afterEmail !== null) query = query.where('email', '>', afterEmail);
      return withGroups(await query.execute());
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

    async search(prefix, limit, offset) {
      // Each arm is an index range scan in its key's order, cut at the page's end; the union of
      // the two short lists is then sorted. "C" on PostgreSQL: the index's bytewise order.
      const c = engine.name === 'postgres' ? sql` collate "C"` : sql``;
      const upper = `${prefix}${PREFIX_END}`;
      const name = prefix.toLowerCase();
      const enough = limit + offset;
      const { rows } = await sql<{ id: string }>`
        select id, email from (select id, email from accounts
          where email${c} >= ${prefix} and email${c} < ${upper} order by email${c} limit ${enough}) as by_email
        union
        select id, email from (select id, email from accounts
          where lower(display_name)${c} >= ${name} and lower(display_name)${c} < ${`${name}${PREFIX_END}`}
          order by lower(display_name)${c} limit ${enough}) as by_name
        order by email limit ${limit} offset ${offset}`.execute(db);
      if (rows.length === 0) return [];
      const found = await db
        .selectFrom('accounts')
        .selectAll()
        .where(
          'id',
          'in',
          rows.map((r) => r.id),
        )
        .orderBy('email')
        .execute();
      return withGroups(found);
    },

    async setDisabled(id, at) {
      let query = db
        .updateTable('accounts')
        .set({ disabled_at: at ? toMillis(at) : null })
        .where('id', '=', id);
      query = at ? query.where('disabled_at', 'is', null) : query.where('disabled_at', 'is not', null);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
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

/** Rows a multi-row statement carries: 8 or 2 parameters each, so well below 32,766 and 65,535. */
const ACCOUNT_CHUNK = 1000;
const MEMBERSHIP_CHUNK = 5000;

function accountRow(account: NewAccount): Insertable<AccountsTable> {
  return {
    id: account.id,
    email: account.email,
    display_name: account.displayName,
    password_hash: storedPasswordHash(account.passwordHash),
    shared_mailbox: account.sharedMailbox ? 1 : 0,
    mfa_enabled: 0,
    mfa_enabled_at: null,
    created_at: toMillis(account.createdAt),
    disabled_at: null,
  };
}

function toAccount(row: Selectable<AccountsTable>, memberships: { group_name: string }[]): Account {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    passwordHash: row.password_hash === NO_PASSWORD ? null : row.password_hash,
    sharedMailbox: row.shared_mailbox === 1,
    mfaEnabled: row.mfa_enabled === 1,
    mfaEnabledAt: row.mfa_enabled_at === null ? null : fromMillis(row.mfa_enabled_at),
    createdAt: fromMillis(row.created_at),
    groups: memberships.map((m) => m.group_name),
    disabledAt: row.disabled_at == null ? null : fromMillis(row.disabled_at),
  };
}

/** The highest code point: every string that starts with a prefix sorts below prefix + this. */
const PREFIX_END = '\u{10FFFF}';

/**
 * An account without a password keeps an empty password_hash (the column is NOT NULL since 0001
 * and SQLite cannot drop that without rebuilding the table its many foreign keys point at). No
 * hasher ever produces or verifies an empty hash.
 */
const NO_PASSWORD = '';

function storedPasswordHash(passwordHash: string | null): string {
  return passwordHash ?? NO_PASSWORD;
}
