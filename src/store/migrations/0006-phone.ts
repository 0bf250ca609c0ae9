import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../engine.ts';

/** Phone verification: one row per call or text message sent. */
export function phone(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('phone_challenges')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('method_id', 'text', (c) => c.notNull().references('mfa_methods.id').onDelete('cascade'))
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('code_hash', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('session_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('settled_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('phone_challenges_session')
        .on('phone_challenges')
        .column('session_hash')
        .execute();
    },
  };
}
