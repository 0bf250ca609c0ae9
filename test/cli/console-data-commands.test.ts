import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { gatehouse } from '../helpers/cli.ts';
import { POSTGRES_URL, postgresUnavailable } from '../helpers/engines.ts';

/** `audit list|export` and `reports ...`: the console's audit log and reports on the command line. */
describe('audit log and report commands', async () => {
  const skip = await postgresUnavailable();
  const schema = `gatehouse_cli_reports_${randomBytes(5).toString('hex')}`;
  const setups = {
    sqlite: { GATEHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), 'gatehouse-cli-reports-')) },
    postgres: {
      GATEHOUSE_DATABASE_URL: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      GATEHOUSE_SECRETS_KEY: Buffer.alloc(32, 1).toString('base64'),
    },
  };
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(statement);
    await client.end();
  };
  before(async () => {
    if (!skip) await admin(`CREATE SCHEMA "${schema}"`);
  });
  after(async () => {
    if (!skip) await admin(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });

  for (const [engine, env] of Object.entries(setups)) {
    test(`audit list and export, reports, and their refusals (${engine})`, {
      skip: engine === 'postgres' ? (skip ?? false) : false,
    }, async () => {
      const run = (args: string[], stdin = '') => gatehouse(args, env, stdin);
      for (const email of ['ann@example.org', 'bob@example.org'])
        assert.equal(
          (await run(['users', 'add', email, '--name', email.slice(0, 3)], 'Blue-Harbour-42\n')).code,
          0,
        );
      assert.equal(
        (await run(['users', 'disable', 'ann@example.org', '--reason', 'left the trust'])).code,
        0,
      );

      const list = await run(['audit', 'list', '--account', 'ann@example.org', '--operator', 'cli']);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /account\.disabled\s+ann@example\.org {2}actor=cli/);
      assert.doesNotMatch(list.stdout, /bob@example\.org/);
      const exported = await run(['audit', 'export', '--account', 'ann@example.org']);
      assert.equal(exported.code, 0, exported.stderr);
      const lines = exported.stdout.split('\r\n').filter(Boolean);
      assert.equal(lines[0], '"id","at","type","account","actor","client_address","detail"');
      assert.ok(lines.some((l) => l.includes('"account.disabled","ann@example.org","cli"')));
      assert.ok(lines.slice(1).every((l) => l.includes('"ann@example.org"')));

      const reversed = await run(['audit', 'list', '--from', '2026-06-05', '--to', '2026-06-01']);
      assert.equal(reversed.code, 1);
      assert.match(reversed.stderr, /--to must be after --from/);
      const long = await run(['audit', 'export', '--account', 'a'.repeat(100_000)]);
      assert.equal(long.code, 1);
      assert.match(long.stderr, /a filter is not valid/);
      assert.equal(long.stdout, '', 'nothing exported');

      const registration = await run(['reports', 'registration']);
      assert.equal(registration.code, 0, registration.stderr);
      assert.match(registration.stdout, /^\s+2 {2}all$/m);
      assert.match(registration.stdout, /^\s+2 {2}none$/m);
      const none = await run(['reports', 'export', 'none']);
      assert.equal(
        none.stdout,
        '"email","name","mfa_enabled","disabled"\r\n"ann@example.org","ann","no","yes"\r\n"bob@example.org","bob","no","no"\r\n',
      );
      assert.match((await run(['reports', 'activity'])).stdout, /Sign-in activity from/);
      const bad = await run(['reports', 'list', 'everyone']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /a filter is not valid/);
      // The old form still works.
      assert.match((await run(['audit', '--user', 'ann@example.org'])).stdout, /account\.disabled/);
    });
  }
});
