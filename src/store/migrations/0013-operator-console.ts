import { type Kysely, type Migration, sql } from 'kysely';
import type { Engine } from '../engine.ts';

/**
 * The operator console: roles (operator, auditor), Temporary Access Passes (one per account, only
 * its hash), disabled accounts, and the indexes that make prefix search by email or name an index
 * range scan at any size. PostgreSQL compares the keys in the "C" collation (bytewise, as SQLite's
 * BINARY): a range `>= prefix and < prefix || U+10FFFF` is then exactly "starts with prefix".
 */
export function operatorConsole(engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('account_roles')
        .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('granted_at', 'bigint', (c) => c.notNull())
        .addColumn('granted_by', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('temporary_passes')
        .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('pass_hash', 'text', (c) => c.notNull())
        .addColumn('one_time', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_used_at', 'bigint')
        .addColumn('last_used_session', 'text')
        .execute();
      await db.schema
        .createIndex('temporary_passes_expiry')
        .on('temporary_passes')
        .column('expires_at')
        .execute();

      await db.schema.alterTable('accounts').addColumn('disabled_at', 'bigint').execute();

      // The exemption register: who answers for an exclusion, why, and when it is reviewed.
      for (const column of ['exemption_owner', 'exemption_reason'])
        await db.schema.alterTable('groups').addColumn(column, 'text').execute();
      await db.schema.alterTable('groups').addColumn('exemption_review_at', 'bigint').execute();
      await db.schema
        .createTable('account_exemptions')
        .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('review_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();

      if (engine.name === 'postgres') {
        await sql`CREATE INDEX accounts_email_prefix ON accounts (email COLLATE "C")`.execute(db);
        await sql`CREATE INDEX accounts_name_prefix ON accounts ((lower(display_name)) COLLATE "C")`.execute(
          db,
        );
      } else {
        // The unique index on email already orders emails bytewise (BINARY).
        await sql`CREATE INDEX accounts_name_prefix ON accounts (lower(display_name))`.execute(db);
      }
    },
  };
}
