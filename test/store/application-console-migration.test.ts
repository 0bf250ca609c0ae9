import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Migrator, sql } from 'kysely';
import { migrateToLatest } from '../../src/store/migrate.ts';
import { migrationProvider } from '../../src/store/migrations/index.ts';
import { ENGINES, postgresUnavailable, testDatabase } from '../helpers/engines.ts';

/**
 * Migration 0017 on each engine: records the provider saved before it get the application they
 * were issued to from their payload, so removing that application ends them too.
 */
for (const engine of ENGINES) {
  test(`0017 fills in the application of records saved before it (${engine})`, async (t) => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    if (skip) return t.skip(skip);
    const database = testDatabase(engine);
    const raw = database.rawEngine();
    t.after(async () => {
      await raw.destroy();
      await database.drop();
    });
    const all = migrationProvider(raw);
    const before = new Migrator({
      db: raw.db,
      provider: {
        async getMigrations() {
          const migrations = await all.getMigrations();
          return Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0017'));
        },
      },
      ...(database.location.engine === 'postgres' && database.location.schema
        ? { migrationTableSchema: database.location.schema }
        : {}),
    });
    assert.equal((await before.migrateToLatest()).error, undefined);
    for (const [model, id, payload] of [
      ['RefreshToken', 'rt1', { clientId: 'mail-client', grantId: 'g1' }],
      ['Grant', 'g1', { clientId: 'mail-client', accountId: 'a1' }],
      ['Session', 's1', { accountId: 'a1' }],
    ] as const)
      await sql`insert into oidc_models (model, id, payload) values (${model}, ${id}, ${JSON.stringify(payload)})`.execute(
        raw.db,
      );
    assert.ok((await migrateToLatest(raw)).includes('0017-application-console'));
    const rows = await raw.db.selectFrom('oidc_models').select(['id', 'client_id']).orderBy('id').execute();
    assert.deepEqual(rows, [
      { id: 'g1', client_id: 'mail-client' },
      { id: 'rt1', client_id: 'mail-client' },
      { id: 's1', client_id: null },
    ]);
    const app = await raw.db.selectFrom('applications').select('secret_rotated_at').execute();
    assert.deepEqual(app, []);
  });
}
