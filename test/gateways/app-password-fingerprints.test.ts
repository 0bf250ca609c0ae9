import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Migrator, sql } from 'kysely';
import { isGatehouseError } from '../../src/core/errors.ts';
import type { Core } from '../../src/core/index.ts';
import { argon2idHasher } from '../../src/core/passwords/hasher.ts';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { migrationProvider } from '../../src/store/migrations/index.ts';
import { ENGINES, postgresUnavailable, testDatabase } from '../helpers/engines.ts';
import { addUser, startTestPortal, TEST_SECRETS } from '../helpers/portal.ts';

const legacy = (core: Core, email: string, password: string) =>
  core.legacySignIn({ email, password, protocol: 'ldap', clientAddress: '127.0.0.1' }).then(
    () => 'accepted',
    (error: unknown) => (isGatehouseError(error) ? error.code : Promise.reject(error)),
  );

for (const engine of ENGINES) {
  describe(`app password fingerprints (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;

    test('migration 0008 revokes app passwords made before fingerprints, each audited', {
      skip: skip ?? false,
    }, async () => {
      const database = testDatabase(engine);
      const raw = database.rawEngine();
      try {
        if (engine === 'postgres')
          await sql
            .raw(`CREATE SCHEMA IF NOT EXISTS "${(database.location as { schema: string }).schema}"`)
            .execute(raw.db);
        const schema = engine === 'postgres' ? (database.location as { schema: string }).schema : undefined;
        // Its own schema named, as migrateToLatest does, so another schema's tables are not taken for its own.
        const migrator = new Migrator({
          db: raw.db,
          provider: migrationProvider(raw),
          ...(schema ? { migrationTableSchema: schema } : {}),
        });
        const { error } = await migrator.migrateTo('0007-smartcard');
        assert.equal(error, undefined);
        const accountId = randomUUID();
        await sql`INSERT INTO accounts (id, email, display_name, password_hash, shared_mailbox, mfa_enabled, created_at)
          VALUES (${accountId}, 'old.client@example.org', 'Old Client', 'x', 0, 1, 0)`.execute(raw.db);
        const oldHash = await argon2idHasher().hash('abcdefghjkmnpqrs');
        for (const name of ['Thunderbird at home', 'Outlook 2010 at work']) {
          await sql`INSERT INTO app_passwords (id, account_id, name, password_hash, created_at)
            VALUES (${randomUUID()}, ${accountId}, ${name}, ${oldHash}, 0)`.execute(raw.db);
        }
        // Every migration after 0007 runs, 0008 first.
        const later = Object.keys(await migrationProvider(raw).getMigrations()).filter(
          (name) => name > '0007-smartcard',
        );
        assert.equal(later[0], '0008-app-password-fingerprints');
        assert.deepEqual(await migrateToLatest(raw), later);
        const portal = await startTestPortal({ database });
        try {
          const account = (await portal.core.accounts.find('old.client@example.org'))!;
          assert.deepEqual(await portal.store.appPasswords.listForAccount(account.id), []);
          const events = await portal.core.audit.list({ email: account.email });
          assert.deepEqual(events.map((e) => [e.type, e.actor, e.detail]).sort(), [
            [
              'app_password.revoked',
              'system',
              {
                name: 'Outlook 2010 at work',
                reason: 'upgrade',
                migration: '0008-app-password-fingerprints',
              },
            ],
            [
              'app_password.revoked',
              'system',
              { name: 'Thunderbird at home', reason: 'upgrade', migration: '0008-app-password-fingerprints' },
            ],
          ]);
          assert.equal(
            await legacy(portal.core, account.email, 'abcd-efgh-jkmn-pqrs'),
            'invalid_credentials',
          );
          const fresh = await portal.core.appPasswords.create(account, 'Thunderbird at home', '127.0.0.1');
          assert.equal(await legacy(portal.core, account.email, fresh.keyPassword), 'accepted');
        } finally {
          await portal.close();
        }
      } finally {
        await raw.destroy();
        await database.drop();
      }
    });

    test('two instances share one fingerprint key, sealed with the secrets key', {
      skip: skip ?? false,
    }, async () => {
      const database = testDatabase(engine);
      const first = await startTestPortal({ database });
      const second = await startTestPortal({ database });
      try {
        const [one, two] = await Promise.all([
          addUser(first.core, 'first@example.org'),
          addUser(second.core, 'second@example.org'),
        ]);
        // Both instances make their key at once: the first written is the one both use.
        const [a, b] = await Promise.all([
          first.core.appPasswords.create(one, 'Mail on the laptop', '127.0.0.1'),
          second.core.appPasswords.create(two, 'Mail on the laptop', '127.0.0.1'),
        ]);
        assert.equal(await legacy(second.core, one.email, a.keyPassword), 'accepted');
        assert.equal(await legacy(first.core, two.email, b.keyPassword), 'accepted');
        const sealed = await first.store.secrets.getOrCreate('app-password-fingerprint-key', 'unused');
        assert.match(sealed, /^v1\./, 'sealed, not in the clear');
        assert.equal(Buffer.from(TEST_SECRETS.open(sealed), 'base64').length, 32);
      } finally {
        await first.close();
        await second.close();
        await database.drop();
      }
    });
  });
}
