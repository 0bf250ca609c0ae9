import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../engine.ts';

/** Authentication methods' own data, app activations and push requests (number matching). */
export function authenticator(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('mfa_methods')
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
        .execute();
      await db.schema
        .alterTable('mfa_methods')
        .addColumn('data', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema
        .alterTable('mfa_methods')
        .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      // The last TOTP time step accepted: a code is refused unless its step is later (no replay).
      await db.schema.alterTable('mfa_methods').addColumn('last_step', 'bigint').execute();

      await db.schema
        .alterTable('sessions')
        .addColumn('factors', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();

      await db.schema
        .createTable('activations')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('session_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('device_id', 'text')
        // The code itself, sealed with the secrets key, so the PC can show it again after a reload.
        .addColumn('code_sealed', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('activations_session').on('activations').column('session_hash').execute();

      await db.schema
        .createTable('push_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('device_id', 'text', (c) => c.notNull().references('mfa_methods.id').onDelete('cascade'))
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('number', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('session_hash', 'text', (c) => c.notNull())
        .addColumn('application', 'text', (c) => c.notNull())
        .addColumn('client_address', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('answered_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('push_requests_device')
        .on('push_requests')
        .columns(['device_id', 'status'])
        .execute();
      await db.schema
        .createIndex('push_requests_account')
        .on('push_requests')
        .columns(['account_id', 'created_at'])
        .execute();
      await db.schema
        .createIndex('push_requests_session')
        .on('push_requests')
        .column('session_hash')
        .execute();
    },
  };
}
