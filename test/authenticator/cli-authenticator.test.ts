import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { totpCode } from '../../src/authenticator/client/totp.ts';
import { HttpBrowser } from '../helpers/http-browser.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';

const BIN = new URL('../../bin/gatehouse.js', import.meta.url).pathname;

function authenticator(args: string[], store: string) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, 'authenticator', ...args, '--store', store], {
      env: { PATH: process.env.PATH ?? '' },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  });
}

test('the client computes RFC 6238 codes (SHA-1 vector, as 6 digits)', async () => {
  assert.equal(await totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', new Date(59_000)), '287082');
  assert.equal(await totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', new Date(1_111_111_109_000)), '081804');
});

describe('the command-line authenticator against a running portal', () => {
  let portal: TestPortal;
  const store = join(mkdtempSync(join(tmpdir(), 'gatehouse-authn-')), 'authenticator.json');

  before(async () => {
    portal = await startTestPortal({ listen: true });
  });
  after(() => portal.close());

  test('registers from the activation link, approves the number, shows codes oathtool agrees with', async () => {
    const account = await addUser(portal.core, 'cli.phone@example.org');
    await portal.core.enrolment.enable(account, '127.0.0.1');
    const pc = new HttpBrowser();
    const signInPage = await pc.follow(`${portal.url}/signin`);
    await pc.submit(`${portal.url}/signin`, signInPage.html, '/signin', {
      email: account.email,
      password: TEST_PASSWORD,
    });
    const app = await pc.follow(`${portal.url}/mfa/register/app`);
    const scan = await pc.submit(`${portal.url}/mfa/register/app`, app.html, '/mfa/register/activation', {});
    const link = /id="activation-link" href="([^"]+)"/.exec(scan.html)?.[1]?.replaceAll('&#x2F;', '/');
    assert.ok(link, 'the Can\u2019t scan image? link');

    const added = await authenticator(['add', link, '--name', 'Build server'], store);
    assert.equal(added.code, 0, added.out);
    assert.equal(statSync(store).mode & 0o777, 0o600, 'the key file is readable by its owner only');

    const numberPage = await pc.submit(
      `${portal.url}/mfa/register/scan`,
      scan.html,
      '/mfa/register/scan',
      {},
    );
    const number = /id="matching-number">(\d\d)</.exec(numberPage.html)?.[1];
    assert.ok(number, numberPage.url);
    const requests = await authenticator(['requests'], store);
    const requestId = /^(\S+)\tregistration\tcli\.phone@example\.org/m.exec(requests.out)?.[1];
    assert.ok(requestId, requests.out);
    const approved = await authenticator(['approve', requestId, '--number', number], store);
    assert.equal(approved.code, 0, approved.out);
    assert.match(approved.out, /Approved\./);
    assert.match((await pc.follow(`${portal.url}/mfa/register/number`)).html, /Notification approved/);

    const code = /\t(\d{6})$/m.exec((await authenticator(['code'], store)).out)?.[1];
    assert.ok(code);
    const secret = (
      JSON.parse(execFileSync('cat', [store], { encoding: 'utf8' })) as { accounts: { totpSecret: string }[] }
    ).accounts[0]!.totpSecret;
    execFileSync('oathtool', ['--totp', '-b', '-w', '1', secret, code]); // throws when oathtool disagrees

    const removed = await authenticator(['remove', 'cli.phone@example.org'], store);
    assert.equal(removed.code, 0, removed.out);
    assert.equal(
      await portal.store.methods.countForAccount(account.id),
      0,
      'the device is gone from the server',
    );
  });
});
