import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { gatehouse } from '../helpers/cli.ts';
import { addUser, registerCodeApp, TEST_PASSWORD } from '../helpers/portal.ts';
import { type PrivatePostgres, privatePostgres } from '../helpers/private-postgres.ts';
import { restoredSignIns, withCoreOf } from '../helpers/restored.ts';

/**
 * The README's PostgreSQL backup, word for word: pg_dump in the custom format, pg_restore into an
 * empty database, and Gatehouse started on it with the same GATEHOUSE_SECRETS_KEY. On a server of
 * the test's own, so that a whole database can be made and restored.
 */
let server: PrivatePostgres | undefined;
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pgdump-'));
after(() => {
  server?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test('pg_dump, pg_restore into an empty database, same key: TOTP and the app password still work', async () => {
  server = await privatePostgres();
  const key = Buffer.alloc(32, 5).toString('base64');
  const env = { GATEHOUSE_DATABASE_URL: server.url, GATEHOUSE_SECRETS_KEY: key };
  const email = 'kim@example.org';
  const { secret, keyPassword } = await withCoreOf(env, async (core) => {
    await addUser(core, email);
    const { secret } = await registerCodeApp(core, email, () => new Date());
    const account = await core.accounts.find(email);
    assert.ok(account);
    const { keyPassword } = await core.appPasswords.create(account, 'Mail on the laptop', '127.0.0.1');
    return { secret, keyPassword };
  });

  const refused = await gatehouse(['backup', join(dir, 'x.sqlite')], env);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /pg_dump/);

  const dump = join(dir, 'gatehouse.dump');
  execFileSync('pg_dump', ['--format=custom', `--file=${dump}`, server.url]);
  const restoredUrl = server.url.replace(/\/test$/, '/gatehouse_restored');
  execFileSync('createdb', [
    '-h',
    '127.0.0.1',
    '-p',
    String(server.port),
    '-U',
    'postgres',
    'gatehouse_restored',
  ]);
  execFileSync('pg_restore', ['--no-owner', `--dbname=${restoredUrl}`, dump]);

  await restoredSignIns(
    { GATEHOUSE_DATABASE_URL: restoredUrl, GATEHOUSE_SECRETS_KEY: key },
    { email, password: TEST_PASSWORD, totpSecret: secret, appPassword: keyPassword },
  );
  // The audit log came back, and is still append-only (its triggers came back with it).
  const raw = new pg.Client({ connectionString: restoredUrl });
  await raw.connect();
  try {
    const { rows } = await raw.query('SELECT count(*)::int AS n FROM audit_events');
    assert.ok(rows[0].n > 0);
    await assert.rejects(raw.query('DELETE FROM audit_events'), /append-only/);
  } finally {
    await raw.end();
  }
});
