import type { Kysely, Selectable } from 'kysely';
import type { AccountExemption, ConsoleRole, TemporaryPass } from '../../core/model.ts';
import type { ExemptionStore, RoleStore, TemporaryPassStore } from '../../core/store.ts';
import type { AccountExemptionsTable, Database, TemporaryPassesTable } from '../schema.ts';
import { fromMillis, optionalDate, toMillis } from './time.ts';

export function roleRepo(db: Kysely<Database>): RoleStore {
  return {
    async set(accountId, role, at, grantedBy) {
      const values = { role, granted_at: toMillis(at), granted_by: grantedBy };
      await db
        .insertInto('account_roles')
        .values({ account_id: accountId, ...values })
        .onConflict((oc) => oc.column('account_id').doUpdateSet(values))
        .execute();
    },
    async remove(accountId) {
      const result = await db
        .deleteFrom('account_roles')
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async find(accountId) {
      const row = await db
        .selectFrom('account_roles')
        .select('role')
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row?.role as ConsoleRole | undefined;
    },
  };
}

export function temporaryPassRepo(db: Kysely<Database>): TemporaryPassStore {
  return {
    async replace(pass) {
      const values = {
        pass_hash: pass.passHash,
        one_time: pass.oneTime ? 1 : 0,
        created_at: toMillis(pass.createdAt),
        expires_at: toMillis(pass.expiresAt),
        created_by: pass.createdBy,
        uses: 0,
        last_used_at: null,
        last_used_session: null,
      };
      // Read then upsert: whether one was replaced is only for the audit log.
      const earlier = await db
        .selectFrom('temporary_passes')
        .select('account_id')
        .where('account_id', '=', pass.accountId)
        .executeTakeFirst();
      await db
        .insertInto('temporary_passes')
        .values({ account_id: pass.accountId, ...values })
        .onConflict((oc) => oc.column('account_id').doUpdateSet(values))
        .execute();
      return earlier !== undefined;
    },
    async find(accountId) {
      const row = await db
        .selectFrom('temporary_passes')
        .selectAll()
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row ? toPass(row) : undefined;
    },
    async claim(accountId, passHash, now, sessionHash) {
      const at = toMillis(now);
      const result = await db
        .updateTable('temporary_passes')
        .set((eb) => ({ uses: eb('uses', '+', 1), last_used_at: at, last_used_session: sessionHash }))
        .where('account_id', '=', accountId)
        .where('pass_hash', '=', passHash)
        .where('expires_at', '>', at)
        .where((eb) => eb.or([eb('one_time', '=', 0), eb('uses', '=', 0)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async remove(accountId) {
      const result = await db
        .deleteFrom('temporary_passes')
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async removeFinished(now) {
      const at = toMillis(now);
      const rows = await db
        .deleteFrom('temporary_passes')
        .where((eb) =>
          eb.or([eb('expires_at', '<=', at), eb.and([eb('one_time', '=', 1), eb('uses', '>', 0)])]),
        )
        .returning(['account_id', 'expires_at'])
        .execute();
      return rows.map((r) => ({ accountId: r.account_id, expired: r.expires_at <= at }));
    },
  };
}

function toPass(row: Selectable<TemporaryPassesTable>): TemporaryPass {
  return {
    accountId: row.account_id,
    passHash: row.pass_hash,
    oneTime: row.one_time === 1,
    createdAt: fromMillis(row.created_at),
    expiresAt: fromMillis(row.expires_at),
    createdBy: row.created_by,
    uses: row.uses,
    lastUsedAt: optionalDate(row.last_used_at),
  };
}

export function exemptionRepo(db: Kysely<Database>): ExemptionStore {
  return {
    async set(e) {
      const values = {
        owner: e.owner,
        reason: e.reason,
        review_at: toMillis(e.reviewAt),
        created_at: toMillis(e.createdAt),
        created_by: e.createdBy,
      };
      await db
        .insertInto('account_exemptions')
        .values({ account_id: e.accountId, ...values })
        .onConflict((oc) => oc.column('account_id').doUpdateSet(values))
        .execute();
    },
    async remove(accountId) {
      const result = await db
        .deleteFrom('account_exemptions')
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async find(accountId) {
      const row = await db
        .selectFrom('account_exemptions')
        .selectAll()
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return row ? toExemption(row) : undefined;
    },
    async list() {
      const rows = await db
        .selectFrom('account_exemptions')
        .innerJoin('accounts', 'accounts.id', 'account_exemptions.account_id')
        .selectAll('account_exemptions')
        .select('accounts.email')
        .orderBy('account_exemptions.review_at')
        .execute();
      return rows.map((row) => ({ ...toExemption(row), email: row.email }));
    },
  };
}

function toExemption(row: Selectable<AccountExemptionsTable>): AccountExemption {
  return {
    accountId: row.account_id,
    owner: row.owner,
    reason: row.reason,
    reviewAt: fromMillis(row.review_at),
    createdAt: fromMillis(row.created_at),
    createdBy: row.created_by,
  };
}
