import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gatehouse } from '../helpers/cli.ts';
import { opensslDate, pkiFolder, type TestCa } from '../helpers/pki.ts';

describe('gatehouse certs: an operator binds a smartcard certificate', () => {
  const pki = pkiFolder();
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-certs-cli-'));
  let ca: TestCa;
  let env: Record<string, string>;
  const run = (args: string[], stdin = '') => gatehouse(args, env, stdin);

  before(async () => {
    ca = pki.ca('Test Care Identity CA');
    const server = ca.issue('endpoint', { usage: 'serverAuth', serverName: '127.0.0.1' });
    const config = join(dataDir, 'gatehouse.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        smartcard: {
          trustedCaFile: ca.certFile,
          crlFiles: [ca.crl().file],
          tlsCertFile: server.certFile,
          tlsKeyFile: server.keyFile,
        },
      }),
    );
    env = { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_CONFIG: config };
    const added = await run(['users', 'add', 'pat@example.org', '--name', 'Pat Doe'], 'Blue-Harbour-42\n');
    assert.equal(added.code, 0, added.stderr);
  });
  after(() => pki.remove());

  test('binds a trusted certificate, lists it, refuses it twice, removes it', async () => {
    const card = ca.issue('pat', { commonName: 'Pat Smartcard' });
    const bound = await run(['certs', 'bind', 'pat@example.org', card.certFile]);
    assert.equal(bound.code, 0, bound.stderr);
    assert.match(
      bound.stdout,
      /Bound CN=Pat Smartcard, O=Gatehouse Tests \(serial [0-9A-F]+, issued by CN=Test Care Identity CA/,
    );
    const listed = await run(['certs', 'list', 'pat@example.org']);
    const id = listed.stdout.split('\t')[0] ?? '';
    assert.match(listed.stdout, /CN=Pat Smartcard/);
    const twice = await run(['certs', 'bind', 'pat@example.org', card.certFile]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /already bound to an account/);
    const removed = await run(['certs', 'remove', 'pat@example.org', id]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match((await run(['certs', 'list', 'pat@example.org'])).stdout, /No smartcards are bound/);
    const audit = await run(['audit', '--user', 'pat@example.org']);
    assert.match(audit.stdout, /smartcard\.bound .*actor=cli/);
    assert.match(audit.stdout, /smartcard\.removed .*actor=cli/);
  });

  test('refuses what a card would be refused for, and bad input, with clear words', async () => {
    const stranger = pki.ca('Some Other CA').issue('stranger');
    const expired = ca.issue('old', { startDate: opensslDate(-60), endDate: opensslDate(-1) });
    const garbage = join(dataDir, 'garbage.pem');
    writeFileSync(garbage, 'this is not a certificate');
    const cases: [string[], number, RegExp][] = [
      [['certs', 'bind', 'pat@example.org', stranger.certFile], 1, /not issued by a trusted CA/],
      [['certs', 'bind', 'pat@example.org', expired.certFile], 1, /has expired/],
      [['certs', 'bind', 'pat@example.org', garbage], 1, /does not hold a readable certificate/],
      [['certs', 'bind', 'pat@example.org', join(dataDir, 'missing.pem')], 2, /cannot read .*ENOENT/],
      [
        ['certs', 'bind', 'nobody@example.org', expired.certFile],
        1,
        /there is no account with this email address/,
      ],
      [['certs', 'bind', 'pat@example.org'], 2, /give the certificate file/],
    ];
    for (const [args, code, message] of cases) {
      const result = await run(args);
      assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });

  test('without smartcard settings the command says so', async () => {
    const result = await gatehouse(['certs', 'list', 'pat@example.org'], { GATEHOUSE_DATA_DIR: dataDir });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /smartcard sign-in is not configured/);
  });
});
