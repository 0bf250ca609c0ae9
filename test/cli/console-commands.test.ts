import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { gatehouse } from '../helpers/cli.ts';
import { POSTGRES_URL, postgresUnavailable } from '../helpers/engines.ts';

/** The console's command-line twins, on each engine: the same core functions, the same refusals. */
describe('console commands', async () => {
  const skip = await postgresUnavailable();
  const schema = `gatehouse_cli_console_${randomBytes(5).toString('hex')}`;
  const setups = {
    sqlite: { GATEHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), 'gatehouse-cli-console-')) },
    postgres: {
      GATEHOUSE_DATABASE_URL: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      GATEHOUSE_SECRETS_KEY: Buffer.alloc(32, 1).toString('base64'),
    },
  };
  before(async () => {
    if (skip) return;
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.end();
  });
  after(async () => {
    if (skip) return;
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  for (const [engine, env] of Object.entries(setups)) {
    test(`grant, revoke, search, temporary pass, disable (${engine})`, {
      skip: engine === 'postgres' ? (skip ?? false) : false,
    }, async () => {
      const run = (args: string[], stdin = '') => gatehouse(args, env, stdin);
      assert.equal(
        (await run(['users', 'add', 'desk@example.org', '--name', 'Desk Person'], 'Blue-Harbour-42\n')).code,
        0,
      );
      const granted = await run(['users', 'grant', 'desk@example.org', 'auditor']);
      assert.equal(granted.code, 0, granted.stderr);
      assert.match(granted.stdout, /desk@example\.org is now an auditor/);
      const badRole = await run(['users', 'grant', 'desk@example.org', 'admin']);
      assert.equal(badRole.code, 2);
      assert.match(badRole.stderr, /the role is operator or auditor/);
      assert.match(
        (await run(['users', 'revoke', 'desk@example.org'])).stdout,
        /no longer has a console role/,
      );
      const unknown = await run(['users', 'grant', 'nobody@example.org', 'operator']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /there is no account with this email address/);

      assert.match((await run(['users', 'search', 'desk'])).stdout, /desk@example\.org\tDesk Person/);
      assert.match((await run(['users', 'search', 'Desk P'])).stdout, /desk@example\.org/);

      const tooLong = await run([
        'users',
        'temporary-pass',
        'desk@example.org',
        '--lifetime',
        '600',
        '--reason',
        'x',
      ]);
      assert.equal(tooLong.code, 1);
      assert.match(tooLong.stderr, /--lifetime must be a whole number of minutes from 10 to 480/);
      const noReason = await run(['users', 'temporary-pass', 'desk@example.org', '--lifetime', '60']);
      assert.equal(noReason.code, 1);
      assert.match(noReason.stderr, /give --reason/);
      const issued = await run([
        'users',
        'temporary-pass',
        'desk@example.org',
        '--lifetime',
        '60',
        '--reason',
        'lost phone',
      ]);
      assert.equal(issued.code, 0, issued.stderr);
      assert.match(issued.stdout, /^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$/m);

      assert.match(
        (await run(['users', 'disable', 'desk@example.org', '--reason', 'left'])).stdout,
        /is disabled/,
      );
      assert.match(
        (await run(['users', 'enable', 'desk@example.org', '--reason', 'back'])).stdout,
        /re-enabled/,
      );
      const audit = (await run(['audit', '--user', 'desk@example.org'])).stdout;
      for (const type of [
        'role.granted',
        'role.revoked',
        'temporary_pass.issued',
        'account.disabled',
        'account.enabled',
      ])
        assert.match(audit, new RegExp(`${type.replace('.', '\\.')}.*actor=cli`), type);
    });

    test(`apps add, rotate-secret, remove, with their refusals (${engine})`, {
      skip: engine === 'postgres' ? (skip ?? false) : false,
    }, async () => {
      const run = (args: string[]) => gatehouse(args, env);
      const added = await run([
        'apps',
        'add',
        '--name',
        'Rota',
        '--redirect-uri',
        'https://rota.example.org/cb',
      ]);
      assert.equal(added.code, 0, added.stderr);
      const clientId = /client_id:\s+(\S+)/.exec(added.stdout)?.[1];
      const first = /client_secret: (\S+)/.exec(added.stdout)?.[1];
      assert.ok(clientId && first);
      const wildcard = await run([
        'apps',
        'add',
        '--name',
        'Evil',
        '--redirect-uri',
        'https://*.example.org/cb',
      ]);
      assert.equal(wildcard.code, 1);
      assert.match(wildcard.stderr, /must not have a wildcard/);

      const rotated = await run(['apps', 'rotate-secret', clientId, '--reason', 'leaked in a ticket']);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.match(rotated.stdout, /the old one no longer works/);
      const second = /client_secret: (\S+)/.exec(rotated.stdout)?.[1];
      assert.ok(second && second !== first, 'a new secret, printed once');
      const unknown = await run(['apps', 'rotate-secret', 'no-such-client']);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /there is no application with this client_id/);
      const publicApp = await run([
        'apps',
        'add',
        '--name',
        'Kiosk',
        '--public',
        '--redirect-uri',
        'https://kiosk.example.org/cb',
      ]);
      const publicId = /client_id:\s+(\S+)/.exec(publicApp.stdout)?.[1];
      assert.ok(publicId);
      assert.match((await run(['apps', 'rotate-secret', publicId])).stderr, /it has no client secret/);

      // What every sign-in to it needs: shown by list, audited, refused in words when unknown.
      const required = await run(['apps', 'require', clientId, 'phishing-resistant', '--reason', 'rota PII']);
      assert.equal(required.code, 0, required.stderr);
      assert.match(required.stdout, /Rota \(.*\): every sign-in needs phishing-resistant/);
      assert.match((await run(['apps', 'list'])).stdout, /Rota\tconfidential, passkey or smartcard required/);
      assert.equal((await run(['apps', 'require', clientId, 'mfa'])).code, 0);
      assert.match((await run(['apps', 'list'])).stdout, /Rota\tconfidential, MFA required/);
      const badLevel = await run(['apps', 'require', clientId, 'strong']);
      assert.equal(badLevel.code, 2);
      assert.match(badLevel.stderr, /one of: none, mfa, phishing-resistant/);
      assert.match(
        (await run(['apps', 'require', 'no-such-client', 'mfa'])).stderr,
        /there is no application/,
      );
      const card = await run([
        'apps',
        'add',
        '--name',
        'Theatre',
        '--require-phishing-resistant',
        '--redirect-uri',
        'https://theatre.example.org/cb',
      ]);
      assert.equal(card.code, 0, card.stderr);
      assert.match(
        (await run(['apps', 'list'])).stdout,
        /Theatre\tconfidential, passkey or smartcard required/,
      );

      const removed = await run(['apps', 'remove', clientId, '--reason', 'retired']);
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(removed.stdout, /Removed .* \(Rota\); 0 single sign-on grant/);
      assert.doesNotMatch((await run(['apps', 'list'])).stdout, /Rota/);
      assert.equal((await run(['apps', 'remove', publicId])).code, 0, 'remove without a reason still works');
      const audit = (await run(['audit'])).stdout;
      for (const type of [
        'application.added',
        'application.secret_rotated',
        'application.requirements_changed',
        'application.removed',
      ])
        assert.match(audit, new RegExp(`${type.replace('.', '\\.')}.*actor=cli`), type);
    });
  }
});
