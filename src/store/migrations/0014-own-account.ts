import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../engine.ts';

/**
 * The user's own account (issue 14): security notices waiting to be mailed (a queue that outlives
 * a mail server outage and a restart), forgotten-password resets and their proved factors, the
 * registration nudge's snoozes, and the account each OpenID provider record belongs to (so that
 * "sign out everywhere" finds an account's single sign-on sessions and refresh tokens).
 */
export function ownAccount(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('notices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('facts', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('claimed_until', 'bigint')
        .addColumn('sent_at', 'bigint')
        .addColumn('last_error', 'text')
        .execute();
      await db.schema
        .createIndex('notices_due')
        .on('notices')
        .columns(['sent_at', 'next_attempt_at'])
        .execute();
      await db.schema
        .createTable('password_resets')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('browser_hash', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.references('accounts.id').onDelete('cascade'))
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('factors', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('completed_at', 'bigint')
        .execute();
      // Housekeeping deletes expired resets by this.
      await db.schema
        .createIndex('password_resets_expiry')
        .on('password_resets')
        .column('expires_at')
        .execute();
      await db.schema
        .createTable('registration_nudges')
        .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
        .addColumn('snoozes', 'integer', (c) => c.notNull())
        .addColumn('snoozed_until', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.alterTable('oidc_models').addColumn('account_id', 'text').execute();
      await db.schema.createIndex('oidc_models_account').on('oidc_models').column('account_id').execute();
    },
  };
}
