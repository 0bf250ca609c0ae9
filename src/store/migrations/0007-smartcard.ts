import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../engine.ts';

/**
 * Smartcard sign-in: certificates bound to accounts, and the one-time tickets that carry a card
 * checked at the certificate endpoint (its own port) over to the portal.
 */
export function smartcard(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('certificate_bindings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
        // A certificate is named by its issuer and serial number (RFC 5280 4.1.2.2): one account each.
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('serial', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('not_after', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .addUniqueConstraint('certificate_bindings_issuer_serial', ['issuer', 'serial'])
        .execute();
      await db.schema
        .createIndex('certificate_bindings_account')
        .on('certificate_bindings')
        .column('account_id')
        .execute();
      await db.schema
        .createTable('certificate_tickets')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('purpose', 'text', (c) => c.notNull())
        // The hash of the state the portal gave the browser: a ticket only works in that browser.
        .addColumn('state_hash', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.references('accounts.id').onDelete('cascade'))
        .addColumn('certificate', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  };
}
