import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../engine.ts';

const NAME = '0008-app-password-fingerprints';

/**
 * App passwords gain a keyed fingerprint of their key, so that a legacy sign-in verifies one
 * argon2id hash instead of one per app password (the number of which its time revealed). Only
 * hashes of the existing keys are stored, so they cannot be given a fingerprint: they are revoked,
 * each with an `app_password.revoked` audit event (reason `upgrade`), and their users create new
 * ones in Security info. Trying each old hash at sign-in would bring the timing back.
 */
export function appPasswordFingerprints(engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // PostgreSQL runs each migration in a transaction; SQLite's migrations run outside one.
      if (engine.name === 'sqlite') await db.transaction().execute((tx) => upgrade(tx));
      else await upgrade(db);
    },
  };
}

async function upgrade(db: Kysely<unknown>) {
  const untyped = db as Kysely<{
    app_passwords: { id: string; account_id: string; name: string; created_at: number };
    accounts: { id: string; email: string };
    audit_events: {
      at: number;
      type: string;
      email: string;
      actor: string;
      client_address: string | null;
      detail: string;
    };
  }>;
  const revoked = await untyped
    .selectFrom('app_passwords')
    .innerJoin('accounts', 'accounts.id', 'app_passwords.account_id')
    .select(['accounts.email as email', 'app_passwords.name as name'])
    .orderBy('app_passwords.created_at')
    .execute();
  const at = Date.now();
  for (const { email, name } of revoked) {
    await untyped
      .insertInto('audit_events')
      .values({
        at,
        type: 'app_password.revoked',
        email,
        actor: 'system',
        client_address: null,
        detail: JSON.stringify({ name, reason: 'upgrade', migration: NAME }),
      })
      .execute();
  }
  await db.schema.dropTable('app_passwords').execute();
  await db.schema
    .createTable('app_passwords')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('key_fingerprint', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('last_used_protocol', 'text')
    .addColumn('last_used_address', 'text')
    .addUniqueConstraint('app_passwords_account_name', ['account_id', 'name'])
    .execute();
  await db.schema
    .createIndex('app_passwords_key_fingerprint')
    .on('app_passwords')
    .column('key_fingerprint')
    .execute();
}
