import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../helpers/clock.ts';
import { postgresUnavailable } from '../helpers/engines.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { numberOn, pushJourneys } from '../helpers/push-journeys.ts';

/**
 * An attacker who knows the password, with a second browser, an old session or a direct URL:
 * none of them gets past the second factor. Each test fails if its protection is taken away.
 */
for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`stale sessions and proofs on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    const clock = manualClock('2026-06-01T09:00:00Z');
    let portal: TestPortal;
    let flows: ReturnType<typeof pushJourneys>;

    before(async () => {
      if (skip) return;
      portal = await startTestPortal({ engine, clock });
      flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock });
    });
    after(async () => {
      if (!skip) await portal.close();
    });

    const signIn = async (email: string) => {
      const pc = new InjectClient(portal.app);
      const response = await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
      return { pc, location: response.headers.location };
    };
    const events = async (email: string, type: string) =>
      (await portal.core.audit.list({ email, limit: 500 })).filter((e) => e.type === type);

    test('a session opened before MFA was enabled ends when the user enables it', {
      skip: skip ?? false,
    }, async () => {
      const account = await addUser(portal.core, `before-${engine}@example.org`);
      const attacker = await signIn(account.email);
      const user = await signIn(account.email);
      assert.equal((await attacker.pc.get('/')).statusCode, 200, 'the old session works until then');
      const confirmed = await user.pc.post(
        '/profile/self-service/mfa',
        {},
        { formPage: '/profile/self-service/mfa' },
      );
      assert.equal(confirmed.headers.location, '/profile/self-service');
      assert.match((await user.pc.get('/profile/self-service')).body, /MFA enabled successfully/);
      assert.equal((await attacker.pc.get('/')).headers.location, '/signin', 'the other session ended');
      assert.equal(
        (await attacker.pc.get('/profile/security-info/app-password')).headers.location,
        '/signin',
      );
      // The enabling session itself registers only after signing in again.
      assert.equal((await user.pc.get('/mfa/register')).headers.location, '/signin?reauth=1');
      assert.equal((await events(account.email, 'session.ended'))[0]?.detail.reason, 'mfa_enabled');
    });

    test("another session's approved registration does not promote this one (/mfa/register/finish)", {
      skip: skip ?? false,
    }, async () => {
      const { email, phone, number } = await flows.scanned();
      const attacker = await signIn(email);
      assert.equal(attacker.location, '/mfa/register');
      const [requestId] = await phone.pendingIds();
      assert.equal((await phone.answer(requestId!, 'approve', number)).json().status, 'approved');
      // The account now has an active method: before, this promoted the attacker to full MFA.
      const finish = await attacker.pc.post('/mfa/register/finish', {}, { formPage: '/mfa/register' });
      assert.notEqual(finish.headers.location, '/mfa/register/app-password');
      assert.notEqual((await attacker.pc.get('/')).statusCode, 200, 'the attacker is not signed in');
      assert.equal((await events(email, 'mfa.verified')).length, 0, 'no session proved MFA');
    });

    test('registering a method ends the other sessions; the registering one gets a new token', {
      skip: skip ?? false,
    }, async () => {
      const { email, pc, phone, number } = await flows.scanned();
      const attacker = await signIn(email);
      const before = pc.cookies.get('gatehouse_session');
      const [requestId] = await phone.pendingIds();
      await phone.answer(requestId!, 'approve', number);
      const finish = await pc.post('/mfa/register/finish', {}, { formPage: '/mfa/register/number' });
      assert.equal(finish.headers.location, '/mfa/register/app-password');
      assert.notEqual(pc.cookies.get('gatehouse_session'), before, 'the token was rotated');
      assert.equal(await portal.core.flow.resume(before!, '192.0.2.1'), undefined, 'the old token is dead');
      assert.equal((await attacker.pc.get('/mfa/register')).headers.location, '/signin');
      const verified = await events(email, 'mfa.verified');
      assert.equal(verified.length, 1);
      assert.deepEqual(verified[0]?.detail.factors, ['pwd', 'mfa', 'swk']);
    });

    test('an app password needs a second factor: not from the registration step', {
      skip: skip ?? false,
    }, async () => {
      const { email } = await flows.pcAtRegistration();
      const attacker = await signIn(email);
      const page = await attacker.pc.get('/mfa/register/app-password');
      assert.equal(page.statusCode, 303);
      const made = await attacker.pc.post(
        '/mfa/register/app-password',
        { name: 'Attacker mail app' },
        {
          formPage: '/mfa/register',
        },
      );
      assert.equal(made.statusCode, 303);
      assert.doesNotMatch(made.body, /key password/i);
      const account = (await portal.core.accounts.find(email))!;
      assert.equal((await portal.store.appPasswords.listForAccount(account.id)).length, 0);
    });

    test('the TOTP key a user is setting up is not shown to another session', {
      skip: skip ?? false,
    }, async () => {
      const { email, pc } = await flows.pcAtRegistration();
      const attacker = await signIn(email);
      await pc.post('/mfa/register/different', { method: 'totp' }, { formPage: '/mfa/register/different' });
      const mine = await pc.get('/mfa/register/code-app');
      const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(mine.body)?.[1];
      assert.ok(secret, 'the user sees the key');
      const theirs = await attacker.pc.get('/mfa/register/code-app');
      assert.equal(theirs.headers.location, '/mfa/register/different');
      assert.doesNotMatch(theirs.body, new RegExp(secret.replace(/ /g, '')));
      // And a GET makes no key: the attacker's session still has none after looking.
      const account = (await portal.core.accounts.find(email))!;
      const pending = (await portal.store.methods.listForAccount(account.id)).filter(
        (m) => m.kind === 'totp',
      );
      assert.equal(pending.length, 1, 'one key, made by the POST of the user');
    });

    test('Security info: adding or removing a method needs a fresh second factor', {
      skip: skip ?? false,
    }, async () => {
      const { email, pc } = await flows.registered();
      assert.equal((await pc.get('/mfa/register/start')).statusCode, 200, 'fresh: the wizard opens');
      clock.advanceMinutes(16);
      // Past the fresh window (but within the idle time, the session touched on each page).
      const start = await pc.get('/mfa/register/start');
      assert.equal(start.headers.location, '/mfa/verify');
      assert.equal((await events(email, 'session.stepped_up')).length, 1);
      assert.equal((await pc.get('/')).headers.location, '/mfa/verify', 'back to the second factor first');
      const activation = await pc.post('/mfa/register/activation', {}, { formPage: '/mfa/verify' });
      assert.equal(activation.headers.location, '/mfa/verify');
      const account = (await portal.core.accounts.find(email))!;
      const methods = await portal.store.methods.listForAccount(account.id);
      assert.equal(methods.length, 1, 'no second device was added');
    });

    test('a GET never raises a push: only the password POST and Try again do', {
      skip: skip ?? false,
    }, async () => {
      const { email, phone } = await flows.registered();
      const { pc, number } = await flows.pcAtVerification(email);
      assert.ok(number);
      const sent = async () => (await events(email, 'push.sent')).length;
      const afterSignIn = await sent();
      clock.advanceMinutes(3); // the request expires
      for (let i = 0; i < 5; i++) await pc.get('/mfa/verify');
      await pc.get('/mfa/verify/status');
      assert.equal(await sent(), afterSignIn, 'reloading the page pushed nothing');
      assert.deepEqual(await phone.pendingIds(), []);
      const retried = await pc.post('/mfa/verify/retry', {}, { formPage: '/mfa/verify' });
      assert.equal(retried.headers.location, '/mfa/verify');
      assert.equal(await sent(), afterSignIn + 1);
      assert.ok(numberOn((await pc.get('/mfa/verify')).body));
    });
  });
}
