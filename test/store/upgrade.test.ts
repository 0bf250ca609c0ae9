import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Migrator } from 'kysely';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { migrationProvider } from '../../src/store/migrations/index.ts';
import { ENGINES, postgresUnavailable, testDatabase } from '../helpers/engines.ts';

/**
 * The migrations of the last release (the schema databases in service have). Kysely refuses to
 * apply a migration numbered below one a database already has, so every new one must sort after
 * these; add a release's new migrations here when it ships.
 */
const RELEASED = [
  '0001-foundation',
  '0002-authenticator',
  '0003-app-passwords',
  '0004-single-sign-on',
  '0006-phone',
  '0007-smartcard',
  '0008-app-password-fingerprints',
  '0009-sign-in-flow',
  '0012-application-launch-url',
];

for (const engine of ENGINES) {
  test(`a database of the last release upgrades to this one (${engine})`, async (t) => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    if (skip) return t.skip(skip);
    const database = testDatabase(engine);
    const raw = database.rawEngine();
    t.after(async () => {
      await raw.destroy();
      await database.drop();
    });
    const all = migrationProvider(raw);
    const released = new Migrator({
      db: raw.db,
      provider: {
        async getMigrations() {
          const migrations = await all.getMigrations();
          return Object.fromEntries(RELEASED.map((name) => [name, migrations[name]!]));
        },
      },
      ...(database.location.engine === 'postgres' && database.location.schema
        ? { migrationTableSchema: database.location.schema }
        : {}),
    });
    const first = await released.migrateToLatest();
    assert.equal(first.error, undefined);
    const applied = await migrateToLatest(raw);
    const names = Object.keys(await all.getMigrations());
    assert.deepEqual(
      applied,
      names.filter((name) => !RELEASED.includes(name)),
    );
    for (const name of applied)
      assert.ok(name > RELEASED.at(-1)!, `${name} sorts after the last released migration`);
  });
}
