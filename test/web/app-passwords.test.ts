import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { GatehouseError } from '../../src/core/index.ts';
import { manualClock } from '../helpers/clock.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';

const keyOn = (html: string) => /id="key-password">([a-z2-9-]+)</.exec(html)?.[1];

describe('app passwords and Security info', () => {
  const clock = manualClock();
  let portal: TestPortal;
  let flows: ReturnType<typeof pushJourneys>;

  before(async () => {
    portal = await startTestPortal({ clock });
    flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock });
  });
  after(() => portal.close());

  const legacy = (email: string, password: string) =>
    portal.core.legacySignIn({ email, password, protocol: 'ldap', clientAddress: '198.51.100.20' });
  const refused = (code: string) => (e: GatehouseError) => e.code === code;

  test('the wizard asks for a name of at least 8 characters, then shows the key password once', async () => {
    const { email, pc } = await flows.registered();
    const short = await pc.post('/mfa/register/app-password', { name: 'Mail' });
    assert.equal(short.statusCode, 400);
    assert.match(short.body, /Enter a password name of at least 8 characters/);
    const created = await pc.post('/mfa/register/app-password', { name: 'Mail on my laptop' });
    assert.equal(created.statusCode, 200);
    assert.match(created.body, /Store this password in a safe place/);
    assert.equal(created.headers['cache-control'], 'no-store');
    const key = keyOn(created.body);
    assert.match(key ?? '', /^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    assert.match(created.body, /href="\/mfa\/register\/finished"[^>]*>Done</);
    const finished = await pc.get('/mfa/register/finished');
    assert.match(finished.body, /Congratulations, you have successfully set up MFA!/);
    assert.match(finished.body, /href="\/"[^>]*>Done</);

    const info = await pc.get('/profile/security-info');
    assert.match(info.body, /Mail on my laptop/);
    assert.ok(!info.body.includes(key!), 'never shown again');
    const duplicate = await pc.post('/profile/security-info/app-password', { name: 'Mail on my laptop' });
    assert.match(duplicate.body, /already have an app password with this name/);

    const account = await legacy(email, key!);
    assert.equal(account.email, email);
    assert.equal(
      (await legacy(email, key!.replaceAll('-', '').toUpperCase())).email,
      email,
      'grouping and case ignored',
    );
    const [stored] = await portal.store.appPasswords.listForAccount(account.id);
    assert.equal(stored?.lastUsedProtocol, 'ldap');
    assert.equal(stored?.lastUsedAddress, '198.51.100.20');
    assert.ok(!stored?.passwordHash.includes(key!.replaceAll('-', '')), 'only a hash is stored');
  });

  test('once MFA is on, the account password is refused by legacy sign-in, and audited', async () => {
    const { email } = await flows.registered();
    await assert.rejects(legacy(email, TEST_PASSWORD), refused('invalid_credentials'));
    const [event] = await portal.core.audit.list({ email, limit: 1 });
    assert.equal(event?.type, 'legacy.password_refused');
  });

  test('app passwords never open the web portal', async () => {
    const { email, pc } = await flows.registered();
    const created = await pc.post('/mfa/register/app-password', { name: 'Desktop mail app' });
    const key = keyOn(created.body)!;
    const browser = new InjectClient(portal.app);
    const signIn = await browser.post('/signin', { email, password: key }, { formPage: '/signin' });
    assert.equal(signIn.statusCode, 401);
    assert.match(signIn.body, /email address or password is not correct/);
  });

  test('revoking an app password ends its use at once', async () => {
    const { email, pc } = await flows.registered();
    const key = keyOn((await pc.post('/mfa/register/app-password', { name: 'Old phone mail' })).body)!;
    await legacy(email, key);
    const info = await pc.get('/profile/security-info');
    const revokeLink = /href="(\/profile\/security-info\/app-passwords\/[^/]+\/revoke)"/.exec(info.body)![1]!;
    const confirm = await pc.get(revokeLink);
    assert.match(confirm.body, /Revoke the app password &quot;Old phone mail&quot;\?/);
    assert.equal((await pc.post(revokeLink, {})).headers.location, '/profile/security-info');
    await assert.rejects(legacy(email, key), refused('invalid_credentials'));
    assert.ok(
      (await portal.core.audit.list({ email, limit: 5 })).some((e) => e.type === 'app_password.revoked'),
    );
  });

  test('resetting MFA removes methods, app passwords and sessions at once', async () => {
    const { email, pc } = await flows.registered();
    const key = keyOn((await pc.post('/mfa/register/app-password', { name: 'Reset test mail' })).body)!;
    const account = (await portal.core.accounts.find(email))!;
    await portal.core.methods.resetMfa(account, 'servicedesk');
    await assert.rejects(legacy(email, key), refused('invalid_credentials'));
    assert.equal((await pc.get('/profile/security-info')).headers.location, '/signin');
    assert.equal(await portal.store.methods.countForAccount(account.id), 0);
  });

  test('before MFA is enabled, legacy applications keep working with the account password', async () => {
    const account = await portal.core.accounts.add(
      {
        email: 'nomfa@example.org',
        displayName: 'No MFA',
        password: TEST_PASSWORD,
        sharedMailbox: false,
        groups: [],
      },
      'test',
    );
    assert.equal((await legacy(account.email, TEST_PASSWORD)).id, account.id);
  });

  test('Security info: the last method cannot be removed, a replacement can be added first, default can change', async () => {
    const { email, pc } = await flows.registered();
    const info = await pc.get('/profile/security-info');
    const removeLink = /href="(\/profile\/security-info\/methods\/[^/]+\/remove)"/.exec(info.body)![1]!;
    await pc.post(removeLink, {});
    assert.match((await pc.get('/profile/security-info')).body, /You cannot remove your only sign-in method/);
    const account = (await portal.core.accounts.find(email))!;
    assert.equal(await portal.store.methods.countForAccount(account.id), 1);

    // Replace it: add a verification-code app, make it the default, then remove the first.
    assert.equal(
      (await pc.post('/mfa/register/different', { method: 'totp' })).headers.location,
      '/mfa/register/code-app',
    );
    const setup = await pc.get('/mfa/register/code-app');
    assert.equal(setup.statusCode, 200);
    const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(setup.body)![1]!.replace(/ /g, '');
    const { codeAt } = await import('../../src/core/methods/totp/totp-codes.ts');
    const added = await pc.post('/mfa/register/code-app', { code: codeAt(secret, clock.now()) });
    assert.equal(added.headers.location, '/mfa/register/app-password');
    assert.equal(await portal.store.methods.countForAccount(account.id), 2);
    const codeApp = (await portal.store.methods.listForAccount(account.id)).find((m) => m.kind === 'totp')!;
    await pc.post('/profile/security-info/default', { method: codeApp.id });
    const methods = await portal.store.methods.listForAccount(account.id);
    assert.deepEqual(
      methods.filter((m) => m.isDefault).map((m) => m.id),
      [codeApp.id],
    );
    await pc.post(removeLink, {});
    assert.equal(await portal.store.methods.countForAccount(account.id), 1);
    const types = (await portal.core.audit.list({ email, limit: 30 })).map((e) => e.type);
    assert.ok(types.includes('method.removed') && types.includes('method.default_changed'));
  });

  test('legacy sign-in failures are throttled per account: then even the right app password is refused', async () => {
    const { email, pc } = await flows.registered();
    const key = keyOn((await pc.post('/mfa/register/app-password', { name: 'Throttled mail app' })).body)!;
    for (let i = 0; i < 4; i++)
      await assert.rejects(legacy(email, 'wxyz-wxyz-wxyz-wxyz'), refused('invalid_credentials'));
    await assert.rejects(legacy(email, 'wxyz-wxyz-wxyz-wxyz'), refused('account_locked'));
    await assert.rejects(legacy(email, key), refused('account_locked'));
    clock.advanceMinutes(16);
    assert.equal((await legacy(email, key)).email, email);
  });
});
