import type { Kysely, Selectable } from 'kysely';
import { GatehouseError } from '../../core/errors.ts';
import type { AppPassword } from '../../core/model.ts';
import type { AppPasswordStore } from '../../core/store.ts';
import type { Engine } from '../engine.ts';
import type { AppPasswordsTable, Database } from '../schema.ts';
import { fromMillis, optionalDate, toMillis } from './time.ts';

export function appPasswordRepo(db: Kysely<Database>, engine: Engine): AppPasswordStore {
  return {
    async insert(p, keyFingerprint) {
      try {
        await db
          .insertInto('app_passwords')
          .values({
            id: p.id,
            account_id: p.accountId,
            name: p.name,
            password_hash: p.passwordHash,
            key_fingerprint: keyFingerprint,
            created_at: toMillis(p.createdAt),
            last_used_at: null,
            last_used_protocol: null,
            last_used_address: null,
          })
          .execute();
      } catch (error) {
        if (engine.isUniqueViolation(error)) throw new GatehouseError('app_password_name_taken');
        throw error;
      }
    },
    async listForAccount(accountId) {
      const rows = await db
        .selectFrom('app_passwords')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .execute();
      return rows.map(toAppPassword);
    },
    async findByFingerprint(keyFingerprint) {
      const row = await db
        .selectFrom('app_passwords')
        .selectAll()
        .where('key_fingerprint', '=', keyFingerprint)
        .executeTakeFirst();
      return row && toAppPassword(row);
    },
    async remove(accountId, id) {
      const result = await db
        .deleteFrom('app_passwords')
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async removeAllForAccount(accountId) {
      const result = await db
        .deleteFrom('app_passwords')
        .where('account_id', '=', accountId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async recordUse(id, at, protocol, address) {
      await db
        .updateTable('app_passwords')
        .set({ last_used_at: toMillis(at), last_used_protocol: protocol, last_used_address: address })
        .where('id', '=', id)
        .execute();
    },
  };
}

function toAppPassword(row: Selectable<AppPasswordsTable>): AppPassword {
  return {
    id: row.id,
    accountId: row.account_id,
    name: row.name,
    passwordHash: row.password_hash,
    createdAt: fromMillis(row.created_at),
    lastUsedAt: optionalDate(row.last_used_at),
    lastUsedProtocol: row.last_used_protocol,
    lastUsedAddress: row.last_used_address,
  };
}
