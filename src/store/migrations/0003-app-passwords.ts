import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../engine.ts';

/** App passwords: what legacy applications (mail clients, VPNs) sign in with instead of the password. */
export function appPasswords(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('app_passwords')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addColumn('last_used_protocol', 'text')
        .addColumn('last_used_address', 'text')
        .addUniqueConstraint('app_passwords_account_name', ['account_id', 'name'])
        .execute();
    },
  };
}
