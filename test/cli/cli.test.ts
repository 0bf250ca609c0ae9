import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { gatehouse } from '../helpers/cli.ts';
import { POSTGRES_URL, postgresUnavailable } from '../helpers/engines.ts';

describe('gatehouse command line on SQLite', () => {
  const env = { GATEHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), 'gatehouse-cli-')) };
  const run = (args: string[], stdin = '') => gatehouse(args, env, stdin);

  test('adds an account with the password from standard input, and lists it', async () => {
    const added = await run(
      [
        'users',
        'add',
        'Pat.Doe@Example.org',
        '--name',
        'Pat Doe',
        '--group',
        'ward 7',
        '--group',
        'secure care',
      ],
      'Blue-Harbour-42\n',
    );
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /Added pat\.doe@example\.org/);
    const listed = await run(['users', 'list']);
    assert.match(
      listed.stdout,
      /pat\.doe@example\.org\tPat Doe\tMFA not enabled \[groups: secure care, ward 7\]/,
    );
    const json = JSON.parse((await run(['users', 'list', '--json'])).stdout) as Record<string, unknown>[];
    assert.equal(json[0]?.email, 'pat.doe@example.org');
    assert.equal('passwordHash' in json[0]!, false, 'hashes never leave the database');
  });

  test('adds a shared mailbox', async () => {
    const added = await run(
      ['users', 'add', 'ward7@example.org', '--name', 'Ward 7', '--shared-mailbox'],
      'Ward-Seven-Shared-1\n',
    );
    assert.equal(added.code, 0, added.stderr);
    assert.match(
      (await run(['users', 'list'])).stdout,
      /ward7@example\.org\tWard 7\tshared mailbox, MFA not enabled/,
    );
  });

  test('refuses a duplicate, a common password, a bad email and a missing name, in words', async () => {
    const duplicate = await run(['users', 'add', 'pat.doe@example.org', '--name', 'Pat'], 'Other-Pass-99\n');
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.stderr, /already exists/);
    const common = await run(['users', 'add', 'new@example.org', '--name', 'New'], 'password123\n');
    assert.equal(common.code, 1);
    assert.match(common.stderr, /most common passwords/);
    const badEmail = await run(['users', 'add', 'not-an-email', '--name', 'X'], 'Blue-Harbour-42\n');
    assert.equal(badEmail.code, 2);
    assert.match(badEmail.stderr, /not a valid email address/);
    const noName = await run(['users', 'add', 'x@example.org'], 'Blue-Harbour-42\n');
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /display name is required/);
    assert.doesNotMatch((await run(['users', 'list'])).stdout, /new@example|x@example/);
  });

  test('excludes a group from MFA with the message its members will see', async () => {
    const result = await run([
      'groups',
      'exclude-from-mfa',
      'secure care',
      '--message',
      'Further guidance will be circulated.',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const audit = await run(['audit']);
    assert.match(audit.stdout, /group\.mfa_excluded .*"group":"secure care"/);
  });

  test('imports good rows, reports broken ones with line and reason, and half-writes nothing', async () => {
    const csv = join(env.GATEHOUSE_DATA_DIR, 'people.csv');
    writeFileSync(
      csv,
      [
        'email,name,password,shared_mailbox,groups',
        'ann@example.org,Ann Lee,Quiet-River-311,no,ward 7',
        'not-an-email,Bad Email,Quiet-River-312,no,',
        'bob@example.org,,Quiet-River-313,no,',
        'cat@example.org,Cat Poe,password1,no,',
        'dan@example.org,Dan Roe,Quiet-River-314,maybe,',
        'ann@example.org,Ann Again,Quiet-River-315,no,',
        'eve@example.org,"Eve ""Evie"" Stone",Quiet-River-316,yes,secure care;ward 7',
        'fay@example.org,"unterminated,Quiet-River-317,no,',
      ].join('\n'),
    );
    const result = await run(['users', 'import', csv]);
    assert.equal(result.code, 1, 'rejected rows make the exit code 1');
    assert.match(result.stdout, /Imported 2 account\(s\); rejected \d+ row\(s\)\./);
    assert.match(result.stdout, /line 3 \(not-an-email\): the email address is not valid/);
    assert.match(result.stdout, /line 4 \(bob@example\.org\): a display name is required/);
    assert.match(result.stdout, /line 5 \(cat@example\.org\): the password is one of the most common/);
    assert.match(result.stdout, /line 6 \(dan@example\.org\): shared_mailbox must be yes or no/);
    assert.match(
      result.stdout,
      /line 7 \(ann@example\.org\): an account with this email address already exists/,
    );
    assert.match(result.stdout, /cannot be read/);
    const listed = (await run(['users', 'list'])).stdout;
    assert.match(listed, /ann@example\.org\tAnn Lee/);
    assert.match(
      listed,
      /eve@example\.org\tEve "Evie" Stone\tshared mailbox, MFA not enabled \[groups: secure care, ward 7\]/,
    );
    for (const absent of ['bob@', 'cat@', 'dan@', 'fay@', 'Ann Again'])
      assert.ok(!listed.includes(absent), absent);
  });

  test('refuses a CSV whose header is wrong, importing nothing', async () => {
    const csv = join(env.GATEHOUSE_DATA_DIR, 'wrong.csv');
    writeFileSync(csv, 'mail,fullname\nzed@example.org,Zed\n');
    const result = await run(['users', 'import', csv]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /missing column\(s\): email, name, password/);
    assert.doesNotMatch((await run(['users', 'list'])).stdout, /zed@/);
  });

  test('a dry run validates without writing', async () => {
    const csv = join(env.GATEHOUSE_DATA_DIR, 'dry.csv');
    writeFileSync(csv, 'email,name,password\ngus@example.org,Gus,Quiet-River-999\n');
    const result = await run(['users', 'import', csv, '--dry-run']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /Would import 1 account/);
    assert.doesNotMatch((await run(['users', 'list'])).stdout, /gus@/);
  });

  test('removes an account and says so in the audit log; an unknown one is an error', async () => {
    const removed = await run(['users', 'remove', 'ann@example.org']);
    assert.equal(removed.code, 0, removed.stderr);
    const again = await run(['users', 'remove', 'ann@example.org']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no account with this email address/);
    const audit = await run(['audit', '--user', 'ann@example.org']);
    assert.match(audit.stdout.split('\n')[0]!, /account\.removed\s+ann@example\.org\s+actor=cli/);
    assert.match(audit.stdout, /account\.added/);
    assert.doesNotMatch(audit.stdout, /eve@example/);
  });

  test('resets MFA for a user, and says so in the audit log', async () => {
    const reset = await run(['users', 'reset-mfa', 'eve@example.org']);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /Reset MFA for eve@example\.org/);
    assert.match(
      (await run(['audit', '--user', 'eve@example.org'])).stdout.split('\n')[0]!,
      /mfa\.reset\s+eve@example\.org\s+actor=cli/,
    );
    const unknown = await run(['users', 'reset-mfa', 'nobody@example.org']);
    assert.equal(unknown.code, 1);
  });

  test('registers applications for single sign-on, refusing an unsafe redirect URI', async () => {
    const added = await run([
      'apps',
      'add',
      '--name',
      'Mail',
      '--redirect-uri',
      'https://mail.example.org/callback',
    ]);
    assert.equal(added.code, 0, added.stderr);
    const clientId = /client_id:\s+(\S+)/.exec(added.stdout)?.[1];
    assert.ok(clientId);
    assert.match(added.stdout, /client_secret: \S{43}/);
    const unsafe = await run(['apps', 'add', '--name', 'Evil', '--redirect-uri', 'http://evil.example/cb']);
    assert.equal(unsafe.code, 1);
    assert.match(unsafe.stderr, /must use https/);
    assert.match((await run(['apps', 'list'])).stdout, new RegExp(`${clientId}\tMail\tconfidential`));
    assert.doesNotMatch((await run(['apps', 'list'])).stdout, /Evil/);
    assert.equal((await run(['apps', 'remove', clientId!])).code, 0);
    assert.match((await run(['apps', 'list'])).stdout, /No applications/);
    // The front page's link: a launch URL of its own (the application's start of sign-in).
    const email = await run([
      'apps',
      'add',
      '--name',
      'Email',
      '--redirect-uri',
      'https://mail.example.org/callback',
      '--launch-url',
      'https://mail.example.org/login',
    ]);
    assert.equal(email.code, 0, email.stderr);
    assert.match(
      (await run(['apps', 'list'])).stdout,
      /\tEmail\tconfidential\t\S+\tlaunch https:\/\/mail\.example\.org\/login/,
    );
    const badLaunch = await run([
      'apps',
      'add',
      '--name',
      'Evil',
      '--redirect-uri',
      'https://evil.example/cb',
      '--launch-url',
      'http://evil.example/login',
    ]);
    assert.equal(badLaunch.code, 1);
    assert.match(badLaunch.stderr, /a launch URL must use https/);
    const rotated = await run(['keys', 'rotate']);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match((await run(['audit'])).stdout, /keys\.rotated/);
  });

  test('a bad configuration gets a clear message, not a stack trace', async () => {
    const result = await gatehouse(['users', 'list'], { ...env, GATEHOUSE_SESION_IDLE_MINUTES: '5' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /GATEHOUSE_SESION_IDLE_MINUTES is not a Gatehouse setting/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  test('an unreachable database gets a clear message without the password', async () => {
    const result = await gatehouse(['users', 'list'], {
      GATEHOUSE_DATABASE_URL: 'postgres://postgres:s3cret@127.0.0.1:1/test',
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot reach the PostgreSQL database 127\.0\.0\.1:1\/test/);
    assert.doesNotMatch(result.stderr, /s3cret|\n\s+at /);
  });

  test('an unknown command prints the usage', async () => {
    const result = await run(['users', 'fly']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Usage: gatehouse/);
  });
});

describe('gatehouse command line on PostgreSQL', async () => {
  const skip = await postgresUnavailable();
  const schema = `gatehouse_cli_${randomBytes(5).toString('hex')}`;
  const url = `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;

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

  test('GATEHOUSE_DATABASE_URL puts the same commands on PostgreSQL', { skip: skip ?? false }, async () => {
    const env = {
      GATEHOUSE_DATABASE_URL: url,
      GATEHOUSE_SECRETS_KEY: Buffer.alloc(32, 1).toString('base64'),
    };
    const added = await gatehouse(
      ['users', 'add', 'pg@example.org', '--name', 'On Postgres'],
      env,
      'Blue-Harbour-42\n',
    );
    assert.equal(added.code, 0, added.stderr);
    assert.match((await gatehouse(['users', 'list'], env)).stdout, /pg@example\.org\tOn Postgres/);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('select email from accounts');
    await client.end();
    assert.deepEqual(rows, [{ email: 'pg@example.org' }]);
  });
});
