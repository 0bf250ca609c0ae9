import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isGatehouseError } from '../../src/core/errors.ts';
import { sweepExpired } from '../../src/core/housekeeping.ts';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import { RESET_LIMITS } from '../../src/core/recovery/password-reset.ts';
import { manualClock } from '../helpers/clock.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { insertPhone, recordingTelephony } from '../helpers/own-account.ts';
import {
  addUser,
  insertCodeApp,
  startTestPortal,
  TEST_PASSWORD,
  type TestPortal,
} from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';

const NEW_PASSWORD = 'Quiet-Lantern-Orchard-7';

/**
 * Changing and resetting the password over HTTP, and the attacks on both: one factor only, a
 * reset step replayed, taken to another browser or out of order. Each is refused and audited.
 */
for (const engine of ENGINES) {
  describe(`password change and reset on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let portal: TestPortal;
    const clock = manualClock();
    const phones = recordingTelephony();

    before(async () => {
      if (skip) return;
      portal = await startTestPortal({ engine, clock, telephony: phones.telephony });
    });
    after(async () => {
      if (!skip) await portal?.close();
    });

    /** An account with the authenticator app (push and codes) and a phone: two factors. */
    async function twoFactorUser() {
      const journeys = pushJourneys({ core: portal.core, pcApp: portal.app, clock });
      const { email, phone } = await journeys.registered();
      const account = (await portal.core.accounts.find(email))!;
      await insertPhone(portal.store, account.id);
      clock.advanceMinutes(1);
      return { email, account, device: phone, secret: phone.totp!.secret };
    }

    /** Signs in with the password and a code on a new client: a fresh second factor. */
    async function signedInWithCode(email: string, secret: string, password = TEST_PASSWORD) {
      const pc = new InjectClient(portal.app);
      await pc.post('/signin', { email, password }, { formPage: '/signin' });
      clock.advanceMinutes(1);
      const done = await pc.post(
        '/mfa/verify/code',
        { code: codeAt(secret, clock.now()) },
        { formPage: '/mfa/verify/code' },
      );
      assert.equal(done.statusCode, 303, done.body);
      return pc;
    }

    const auditTypes = async (email: string) =>
      (await portal.core.audit.list({ email, limit: 100 })).map(
        (e) => `${e.type}${e.detail.reason ? `:${e.detail.reason}` : ''}`,
      );

    test('refuses a password change with the password alone, and asks for a second factor first', {
      skip: skip ?? false,
    }, async () => {
      const form = { current: TEST_PASSWORD, next: NEW_PASSWORD, confirm: NEW_PASSWORD, others: 'no' };
      // MFA on: the password leaves the session at the second factor; the change is not reached.
      const { email } = await twoFactorUser();
      const pc = new InjectClient(portal.app);
      await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
      const posted = await pc.post('/profile/security-info/password', form, { formPage: '/mfa/verify/code' });
      assert.equal(posted.headers.location, '/mfa/verify');
      // A complete session from the password alone (MFA not on, a code app left by older data):
      // refused, and the session is asked for its second factor.
      const legacy = await addUser(portal.core, `legacy.${Date.now()}@example.org`);
      await insertCodeApp(portal.store, legacy.id);
      const home = new InjectClient(portal.app);
      const signedIn = await home.post(
        '/signin',
        { email: legacy.email, password: TEST_PASSWORD },
        { formPage: '/signin' },
      );
      assert.equal(signedIn.headers.location, '/');
      const refused = await home.post('/profile/security-info/password', form, { formPage: '/profile' });
      assert.equal(refused.headers.location, '/mfa/verify');
      for (const address of [email, legacy.email])
        await assert.rejects(
          portal.core.flow.signIn({ email: address, password: NEW_PASSWORD, clientAddress: '192.0.2.9' }),
        );
      assert.ok(
        (await auditTypes(legacy.email)).includes('account.password_change_refused:second_factor_not_fresh'),
      );
    });

    test('changes the password with the current one and a fresh code; other sessions end when asked', {
      skip: skip ?? false,
    }, async () => {
      const { email, account, secret } = await twoFactorUser();
      const other = await signedInWithCode(email, secret);
      const pc = await signedInWithCode(email, secret);
      const refusals: [Record<string, string>, RegExp][] = [
        [
          { current: 'wrong-password-1', next: NEW_PASSWORD, confirm: NEW_PASSWORD },
          /current password is not correct/,
        ],
        [{ current: TEST_PASSWORD, next: 'password1', confirm: 'password1' }, /too common/],
        [{ current: TEST_PASSWORD, next: email, confirm: email }, /cannot be your email address/],
        [{ current: TEST_PASSWORD, next: 'short', confirm: 'short' }, /at least 8 characters/],
        [{ current: TEST_PASSWORD, next: NEW_PASSWORD, confirm: `${NEW_PASSWORD}x` }, /do not match/],
      ];
      for (const [form, words] of refusals) {
        const refused = await pc.post('/profile/security-info/password', { others: 'yes', ...form });
        assert.equal(refused.statusCode >= 400, true, `${JSON.stringify(form)} is refused`);
        assert.match(refused.body, words);
      }
      // Typed decomposed (e + combining acute): stored in NFC, so the composed form signs in.
      const decomposed = `Caf\u0065\u0301-${NEW_PASSWORD}`;
      const changed = await pc.post('/profile/security-info/password', {
        current: TEST_PASSWORD,
        next: decomposed,
        confirm: decomposed,
        others: 'yes',
      });
      assert.equal(changed.headers.location, '/profile/security-info');
      assert.match(
        (await pc.get('/profile/security-info')).body,
        /Your password was changed\. You were signed out everywhere else\./,
      );
      assert.equal((await other.get('/profile')).headers.location, '/signin', 'the other session ended');
      const { token } = await portal.core.flow.signIn({
        email,
        password: `Caf\u00e9-${NEW_PASSWORD}`,
        clientAddress: '192.0.2.9',
      });
      assert.ok(token);
      const types = await auditTypes(email);
      assert.ok(types.includes('account.password_changed'));
      assert.ok(types.includes('account.password_change_refused:wrong_current_password'));
      assert.ok(types.includes('session.ended_everywhere:password_changed'));
      assert.ok((await portal.store.notices.listForEmail(email)).some((n) => n.kind === 'password_changed'));
      void account;
    });

    test('a second factor that is no longer fresh is asked again before the change', {
      skip: skip ?? false,
    }, async () => {
      const { email, secret } = await twoFactorUser();
      const pc = await signedInWithCode(email, secret);
      clock.advanceMinutes(16);
      const asked = await pc.post(
        '/profile/security-info/password',
        {
          current: TEST_PASSWORD,
          next: NEW_PASSWORD,
          confirm: NEW_PASSWORD,
          others: 'no',
        },
        { formPage: '/profile' },
      );
      assert.equal(asked.headers.location, '/mfa/verify');
      assert.ok(
        (await auditTypes(email)).includes('account.password_change_refused:second_factor_not_fresh'),
      );
      await assert.rejects(
        portal.core.flow.signIn({ email, password: NEW_PASSWORD, clientAddress: '192.0.2.9' }),
      );
    });

    /** Starts a reset in a new browser; returns it and the reset's address. */
    async function startReset(email: string) {
      const browser = new InjectClient(portal.app);
      const started = await browser.post('/signin/forgot', { email }, { formPage: '/signin/forgot' });
      const path = String(started.headers.location);
      assert.match(path, /^\/signin\/forgot\/[A-Za-z0-9_-]{43}$/);
      return { browser, path };
    }

    test('resets the password with the app and a text, keeps MFA, and ends every session', {
      skip: skip ?? false,
    }, async () => {
      const { email, account, secret } = await twoFactorUser();
      const session = await signedInWithCode(email, secret);
      const methodsBefore = (await portal.store.methods.listForAccount(account.id)).length;
      const { browser, path } = await startReset(email);
      const choose = await browser.get(path);
      assert.match(choose.body, /step 1 of 2/);
      clock.advanceMinutes(1);
      const code = await browser.post(
        `${path}/code`,
        { code: codeAt(secret, clock.now()) },
        { formPage: path },
      );
      assert.equal(code.headers.location, path);
      assert.match((await browser.get(path)).body, /Done: the authenticator app/);
      const sent = await browser.post(`${path}/text`, {}, { formPage: path });
      assert.equal(sent.headers.location, `${path}/text`);
      const texted = await browser.post(
        `${path}/text/code`,
        { code: phones.lastCode() },
        { formPage: `${path}/text` },
      );
      assert.equal(texted.headers.location, path);
      assert.equal((await browser.get(path)).headers.location, `${path}/password`);
      const reset = await browser.post(
        `${path}/password`,
        { next: NEW_PASSWORD, confirm: NEW_PASSWORD },
        { formPage: `${path}/password` },
      );
      assert.match(reset.body, /Your password has been reset/);
      assert.equal((await session.get('/profile')).headers.location, '/signin', 'the earlier session ended');
      const after = await portal.core.flow.signIn({
        email,
        password: NEW_PASSWORD,
        clientAddress: '192.0.2.9',
      });
      assert.equal(after.stage, 'verify_mfa', 'MFA is still asked for');
      assert.equal((await portal.store.methods.listForAccount(account.id)).length, methodsBefore);
      const types = await auditTypes(email);
      assert.ok(types.includes('account.password_reset'));
      assert.equal(types.filter((t) => t === 'password_reset.factor_proved').length, 2);
      assert.ok((await portal.store.notices.listForEmail(email)).some((n) => n.kind === 'password_reset'));
    });

    test('the phone called, # pressed, is a factor of a reset: the page waits, then moves on once', {
      skip: skip ?? false,
    }, async () => {
      const { email, secret } = await twoFactorUser();
      const { browser, path } = await startReset(email);
      assert.match((await browser.get(path)).body, /Call my phone/);
      const called = await browser.post(`${path}/call`, {}, { formPage: path });
      assert.equal(called.headers.location, `${path}/call`);
      const waiting = await browser.get(`${path}/call`);
      assert.match(waiting.body, /We(&#39;|')re calling/);
      assert.match(waiting.body, /press the <strong>#<\/strong> key/);
      assert.deepEqual((await browser.get(`${path}/call/status`)).json(), {
        status: 'pending',
        next: `${path}/call`,
      });
      assert.match((await browser.get(path)).body, /step 1 of 2/, 'not proved while the call rings');
      await phones.answerLastCall(portal.core);
      assert.deepEqual((await browser.get(`${path}/call/status`)).json(), {
        status: 'confirmed',
        next: path,
      });
      // Counted once: the call's proof is used, so the page offers only the app now.
      assert.equal((await browser.get(`${path}/call`)).headers.location, path);
      const second = await browser.get(path);
      assert.match(second.body, /Done: your phone/);
      assert.doesNotMatch(second.body, /Call my phone/);
      const again = await browser.post(`${path}/call`, {}, { formPage: path });
      assert.equal(again.statusCode, 403, 'the phone cannot be the second factor too');
      clock.advanceMinutes(1);
      await browser.post(`${path}/code`, { code: codeAt(secret, clock.now()) }, { formPage: path });
      assert.equal((await browser.get(path)).headers.location, `${path}/password`);
      const proved = (await portal.core.audit.list({ email, limit: 20 })).filter(
        (e) => e.type === 'password_reset.factor_proved',
      );
      assert.deepEqual(
        proved.map((e) => e.detail.factor),
        ['app', 'phone'],
      );
    });

    test("the app's number approved in the app is one factor of a reset; a wrong number is none", {
      skip: skip ?? false,
    }, async () => {
      const { email, device } = await twoFactorUser();
      const { browser, path } = await startReset(email);
      assert.equal(
        (await browser.post(`${path}/app`, {}, { formPage: path })).headers.location,
        `${path}/app`,
      );
      const waiting = await browser.get(`${path}/app`);
      const number = /id="matching-number">(\d\d)</.exec(waiting.body)?.[1];
      assert.ok(number, 'the number to type in the app is shown');
      const listed = (await device.requests()).json() as { requests: { id: string; application: string }[] };
      assert.equal(listed.requests[0]?.application, 'Password reset');
      // A wrong number closes the request without a factor.
      await device.answer(listed.requests[0]!.id, 'approve', number === '10' ? '11' : '10');
      assert.doesNotMatch((await browser.get(`${path}/app`)).body, /matching-number/);
      assert.match((await browser.get(path)).body, /step 1 of 2/);
      await browser.post(`${path}/app`, {}, { formPage: `${path}/app` });
      const again = /id="matching-number">(\d\d)</.exec((await browser.get(`${path}/app`)).body)?.[1];
      const [requestId] = await device.pendingIds();
      await device.answer(requestId!, 'approve', again!);
      assert.equal((await browser.get(`${path}/app`)).headers.location, path);
      assert.match((await browser.get(path)).body, /step 2 of 2/);
      assert.ok((await auditTypes(email)).includes('password_reset.factor_proved'));
    });

    test('refuses a new password after one factor only, and the same factor twice', {
      skip: skip ?? false,
    }, async () => {
      const { email, secret, device } = await twoFactorUser();
      const { browser, path } = await startReset(email);
      clock.advanceMinutes(1);
      await browser.post(`${path}/code`, { code: codeAt(secret, clock.now()) }, { formPage: path });
      // Out of order: straight to the last step.
      const early = await browser.post(
        `${path}/password`,
        { next: NEW_PASSWORD, confirm: NEW_PASSWORD },
        { formPage: path },
      );
      assert.equal(early.statusCode, 403);
      assert.equal((await browser.get(`${path}/password`)).headers.location, path);
      // The app's push is the same device as its codes: not a second factor.
      const push = await browser.post(`${path}/app`, {}, { formPage: path });
      assert.equal(push.statusCode, 403);
      void device;
      await assert.rejects(
        portal.core.flow.signIn({ email, password: NEW_PASSWORD, clientAddress: '192.0.2.9' }),
      );
      const types = await auditTypes(email);
      assert.ok(types.includes('password_reset.refused:factors_missing'));
      assert.ok(types.includes('password_reset.refused:factor_already_proved'));
    });

    test('refuses a reset taken to another browser, and one replayed after it was used', {
      skip: skip ?? false,
    }, async () => {
      const { email, secret } = await twoFactorUser();
      const { browser, path } = await startReset(email);
      // Another browser with the address but not the cookie.
      const thief = new InjectClient(portal.app, '198.51.100.66');
      const stolen = await thief.get(path);
      assert.equal(stolen.statusCode, 400);
      assert.match(stolen.body, /started in another browser/);
      clock.advanceMinutes(1);
      await browser.post(`${path}/code`, { code: codeAt(secret, clock.now()) }, { formPage: path });
      await browser.post(`${path}/text`, {}, { formPage: path });
      const textCode = phones.lastCode();
      await browser.post(`${path}/text/code`, { code: textCode }, { formPage: `${path}/text` });
      const cookie = browser.cookies.get('gatehouse_reset');
      assert.ok(cookie);
      const first = await browser.post(
        `${path}/password`,
        { next: NEW_PASSWORD, confirm: NEW_PASSWORD },
        { formPage: `${path}/password` },
      );
      assert.match(first.body, /Your password has been reset/);
      assert.equal(browser.cookies.has('gatehouse_reset'), false, 'the reset cookie is cleared');
      // The same step again, from a copy of the browser that kept the cookie: refused.
      browser.cookies.set('gatehouse_reset', cookie);
      const replayed = await browser.post(
        `${path}/password`,
        { next: 'Another-Password-93', confirm: 'Another-Password-93' },
        { formPage: '/signin/forgot' },
      );
      assert.equal(replayed.statusCode, 400);
      await assert.rejects(
        portal.core.flow.signIn({ email, password: 'Another-Password-93', clientAddress: '192.0.2.9' }),
      );
      const types = await auditTypes(email);
      assert.ok(types.includes('password_reset.refused:other_browser'));
      assert.ok(types.includes('password_reset.refused:already_used'));
    });

    test('resets started are counted before one is made: per address and per email, then swept once expired', {
      skip: skip ?? false,
    }, async () => {
      const { perAddress, perEmail } = RESET_LIMITS;
      const address = '198.51.100.77';
      const started = await Promise.allSettled(
        Array.from({ length: 40 }, (_, i) =>
          portal.core.passwordReset.start({ email: `walker${i}@example.org`, clientAddress: address }),
        ),
      );
      const made = started.filter((r) => r.status === 'fulfilled');
      const refused = started.filter((r) => r.status === 'rejected');
      assert.equal(made.length, perAddress.maxFailures, 'of 40 at once, the address limit only');
      assert.ok(refused.every((r) => isGatehouseError(r.reason, 'reset_throttled')));
      const audited = (await portal.core.audit.list({ limit: 200 })).filter(
        (e) =>
          e.type === 'password_reset.refused' &&
          e.detail.reason === 'too_many_resets' &&
          e.clientAddress === address,
      );
      assert.equal(audited.length, 40 - perAddress.maxFailures);
      // Someone else's address from many networks: the email's own limit.
      const victim = 'victim.reset@example.org';
      const perVictim = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          portal.core.passwordReset.start({ email: victim, clientAddress: `203.0.113.${i + 1}` }),
        ),
      );
      assert.equal(perVictim.filter((r) => r.status === 'fulfilled').length, perEmail.maxFailures);
      // Over HTTP the refusal is a page that says how long to wait.
      const page = await new InjectClient(portal.app).post(
        '/signin/forgot',
        { email: victim },
        {
          formPage: '/signin/forgot',
        },
      );
      assert.equal(page.statusCode, 429);
      assert.match(page.body, /Too many password resets have been started\. Try again in \d+ minutes?/);
      // Housekeeping deletes them once expired; an expired reset is unknown from then on.
      const handle = (
        made[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof portal.core.passwordReset.start>>>
      ).value;
      clock.advanceMinutes(16);
      const swept = await sweepExpired(portal.store, clock)();
      assert.ok(swept.passwordResets >= made.length + perEmail.maxFailures, `${swept.passwordResets} swept`);
      await assert.rejects(portal.core.passwordReset.state(handle), (e) =>
        isGatehouseError(e, 'reset_invalid'),
      );
      clock.advanceMinutes(60); // the limits' windows end, for the tests after this one
    });

    test('with fewer than two factors registered, the page says to contact the service desk', {
      skip: skip ?? false,
    }, async () => {
      const journeys = pushJourneys({ core: portal.core, pcApp: portal.app, clock });
      const { email } = await journeys.registered();
      for (const address of [email, 'nobody.here@example.org']) {
        const { browser, path } = await startReset(address);
        const page = await browser.get(path);
        assert.match(page.body, /Contact the service desk/);
        const push = await browser.post(`${path}/app`, {}, { formPage: '/signin/forgot' });
        assert.equal(push.statusCode, 403, 'no step can be taken');
      }
    });
  });
}
