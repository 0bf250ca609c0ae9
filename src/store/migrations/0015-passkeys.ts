import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../engine.ts';

/**
 * Passkeys (issue 15): each credential belongs to one passkey method (removed with it), found by its
 * credential ID at sign-in; and the challenges the portal issued, each bound to the session (or,
 * before there is one, the browser state) that asked, claimed once by one conditional update.
 */
export function passkeys(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('passkey_credentials')
        // The credential ID, base64url, as the authenticator made it: unique across all accounts.
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('method_id', 'text', (c) => c.notNull().references('mfa_methods.id').onDelete('cascade'))
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('counter', 'bigint', (c) => c.notNull())
        .addColumn('transports', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('passkey_credentials_account')
        .on('passkey_credentials')
        .column('account_id')
        .execute();
      await db.schema
        .createTable('passkey_challenges')
        .addColumn('challenge', 'text', (c) => c.primaryKey())
        .addColumn('purpose', 'text', (c) => c.notNull())
        // The hash of the session token (or of the browser's state before sign-in) that asked.
        .addColumn('binding_hash', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.references('accounts.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .execute();
    },
  };
}
