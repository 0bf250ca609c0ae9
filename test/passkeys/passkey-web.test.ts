import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PASSKEY_ATTEMPT_LIMITS } from '../../src/core/methods/passkey/passkey-service.ts';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import { PASSKEY_OPTIONS_LIMIT } from '../../src/core/sign-in-flow/flow.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import {
  addUser,
  insertCodeApp,
  passkeysRequiring,
  signedInSession,
  startTestPortal,
  TEST_PASSWORD,
  type TestPortal,
} from '../helpers/portal.ts';
import { SoftAuthenticator } from '../helpers/soft-authenticator.ts';

const IP = '192.0.2.1';
/** What app.inject's requests come to (Host: localhost:80), so the passkeys' origin. */
const ORIGIN = 'http://localhost:80';
const REQUIRED = 'Your organisation requires you to sign in with a passkey or a smartcard';

/** The passkey pages over HTTP: the operator's requirement said plainly, and refusals in words. */
describe('passkey pages', () => {
  let portal: TestPortal;
  let n = 0;

  before(async () => {
    portal = await startTestPortal({
      settings: {
        passkeys: passkeysRequiring(['console operators']),
      },
    });
  });
  after(async () => portal?.close());

  async function userWithPasskey(groups: string[] = []) {
    const email = `passkey.web${++n}@example.org`;
    await addUser(portal.core, email, { groups });
    const account = await portal.core.accounts.find(email);
    assert.ok(account);
    await portal.core.enrolment.enable(account, IP);
    const { active } = await signedInSession(portal.core, email);
    const key = new SoftAuthenticator();
    const options = await portal.core.flow.startEnrolment(active, 'passkey', { origin: ORIGIN }, IP);
    await portal.core.flow.finishEnrolment(
      active,
      'passkey',
      { origin: ORIGIN, response: key.register(options, ORIGIN), name: 'Blue key' },
      IP,
    );
    const { secret } = await insertCodeApp(portal.store, account.id);
    return { email, key, secret };
  }

  async function passwordStep(client: InjectClient, email: string) {
    const answer = await client.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    assert.equal(answer.statusCode, 303);
    return answer.headers.location;
  }

  test('a group that must use a phishing-resistant method is told so, and a code is refused', async () => {
    const { email, key, secret } = await userWithPasskey(['console operators']);
    const client = new InjectClient(portal.app);
    assert.equal(await passwordStep(client, email), '/mfa/verify/passkey');
    const page = await client.get('/mfa/verify/passkey');
    assert.equal(page.statusCode, 200);
    assert.ok(page.body.includes(REQUIRED), 'the page says so plainly');
    assert.ok(!page.body.includes('/mfa/verify/code'), 'no other method is offered');

    const code = await client.post(
      '/mfa/verify/code',
      { code: codeAt(secret, new Date()) },
      { formPage: '/mfa/verify/passkey' },
    );
    assert.equal(code.statusCode, 403);
    assert.ok(code.body.includes(REQUIRED));

    const options = await client.post('/mfa/verify/passkey/options', {}, { formPage: '/mfa/verify/passkey' });
    assert.equal(options.statusCode, 200);
    const credential = JSON.stringify(key.assert(options.json(), ORIGIN));
    const done = await client.post(
      '/mfa/verify/passkey',
      { credential },
      { formPage: '/mfa/verify/passkey' },
    );
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/');
  });

  test('a user outside those groups may still use a code', async () => {
    const { email, secret } = await userWithPasskey();
    const client = new InjectClient(portal.app);
    assert.equal(await passwordStep(client, email), '/mfa/verify/code');
    const code = await client.post('/mfa/verify/code', { code: codeAt(secret, new Date()) });
    assert.equal(code.statusCode, 303);
  });

  test('Security info shows a suspended passkey as such, and not as a default choice', async () => {
    const { email, secret } = await userWithPasskey();
    const account = (await portal.core.accounts.find(email))!;
    const passkey = (await portal.store.methods.listForAccount(account.id)).find((m) => m.kind === 'passkey');
    assert.ok(passkey && (await portal.store.methods.suspend(passkey.id)));
    const client = new InjectClient(portal.app);
    assert.equal(await passwordStep(client, email), '/mfa/verify/code');
    await client.post('/mfa/verify/code', { code: codeAt(secret, new Date()) });
    const page = await client.get('/profile/security-info');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Passkey: Blue key <strong class="nhsuk-tag nhsuk-tag--red">Suspended<\/strong>/);
    assert.match(page.body, /It may have been copied, so it no longer signs you in/);
    assert.doesNotMatch(page.body, /Default sign-in method/, 'one usable method: nothing to choose');
  });

  test('a passkey answer carried to another browser is refused in words, and audited', async () => {
    const { email, key } = await userWithPasskey();
    const victim = new InjectClient(portal.app);
    const options = await victim.post('/signin/passkey/options', {}, { formPage: '/signin/passkey' });
    const credential = JSON.stringify(key.assert(options.json(), ORIGIN));
    const attacker = new InjectClient(portal.app);
    await attacker.post('/signin/passkey/options', {}, { formPage: '/signin/passkey' });
    const stolen = await attacker.post('/signin/passkey', { credential }, { formPage: '/signin/passkey' });
    assert.equal(stolen.statusCode, 403);
    assert.ok(stolen.body.includes('This passkey request was started in another window or browser'));
    const refusals = (await portal.core.audit.list({ email, limit: 100 })).filter(
      (e) => e.type === 'passkey.refused',
    );
    assert.equal(refusals[0]?.detail?.reason, 'passkey_challenge_other_session');
    // The victim's own browser still signs in with it.
    const own = await victim.post('/signin/passkey', { credential }, { formPage: '/signin/passkey' });
    assert.equal(own.statusCode, 303);
    assert.equal(own.headers.location, '/');
  });

  test('the passkey script and @simplewebauthn/browser are served from the portal itself', async () => {
    const client = new InjectClient(portal.app);
    for (const path of [
      '/static/passkey.js',
      '/static/passkey-autofill.js',
      '/static/simplewebauthn-browser.js',
    ]) {
      const answer = await client.get(path);
      assert.equal(answer.statusCode, 200, path);
      assert.match(String(answer.headers['content-type']), /javascript/);
    }
    const page = await client.get('/signin/passkey');
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
  });

  test('beyond its quota of challenges an address is answered in words the page shows (429)', async () => {
    const client = new InjectClient(portal.app, '198.51.100.61');
    const answers = [];
    for (let i = 0; i <= PASSKEY_OPTIONS_LIMIT.maxFailures; i++)
      answers.push(await client.post('/signin/passkey/options', {}, { formPage: '/signin/passkey' }));
    assert.equal(answers.filter((a) => a.statusCode === 200).length, PASSKEY_OPTIONS_LIMIT.maxFailures);
    const last = answers.at(-1);
    assert.equal(last?.statusCode, 429);
    assert.match(
      String(last?.json().error),
      /Too many passkey requests have come from your network\. Try again in/,
    );
  });

  test("the sign-in page offers passkeys in the email field's suggestions: the form its script posts signs in", async () => {
    const { email, key } = await userWithPasskey();
    const client = new InjectClient(portal.app, '198.51.100.71');
    const page = await client.get('/signin?return=%2Finteraction%2Fabc123');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<input[^>]*id="email"[^>]*autocomplete="username webauthn"/);
    assert.match(page.body, /<script type="module" src="\/static\/passkey-autofill\.js"><\/script>/);
    const form = page.body.match(
      /<form method="post" action="\/signin\/passkey"[^>]*data-passkey-autofill[^>]*>([\s\S]*?)<\/form>/,
    );
    assert.ok(form, 'a hidden form for the chosen passkey');
    assert.match(form[0], /\bhidden\b/);
    assert.match(form[1] ?? '', /name="_csrf" value="[^"]+"/);
    assert.match(form[1] ?? '', /name="return" value="\/interaction\/abc123"/);
    assert.match(form[1] ?? '', /name="credential"/);
    // What the script does: options with the page's token, then the answer posted in that form.
    const options = await client.post('/signin/passkey/options', {}, { formPage: '/signin' });
    assert.equal(options.statusCode, 200);
    const credential = JSON.stringify(key.assert(options.json(), ORIGIN));
    const signedIn = await client.post(
      '/signin/passkey',
      { credential, return: '/interaction/abc123' },
      { formPage: '/signin?return=%2Finteraction%2Fabc123' },
    );
    assert.equal(signedIn.statusCode, 303);
    assert.equal(signedIn.headers.location, '/interaction/abc123', 'back to where it was going');
    const accepted = (await portal.core.audit.list({ email, limit: 100 })).filter(
      (e) => e.type === 'passkey.accepted',
    );
    assert.equal(accepted[0]?.detail?.purpose, 'passwordless');
  });

  test('refused passkey answers beyond the limit are answered in their own words (429)', async () => {
    const { key } = await userWithPasskey();
    const client = new InjectClient(portal.app, '198.51.100.72');
    const answers = [];
    for (let i = 0; i <= PASSKEY_ATTEMPT_LIMITS.account.maxFailures; i++) {
      const options = await client.post('/signin/passkey/options', {}, { formPage: '/signin/passkey' });
      const credential = JSON.stringify(key.assert(options.json(), ORIGIN, { uv: false }));
      answers.push(await client.post('/signin/passkey', { credential }, { formPage: '/signin/passkey' }));
    }
    const refused = answers.slice(0, -1);
    assert.ok(refused.every((a) => a.statusCode === 400 && a.body.includes('The passkey was not accepted')));
    const last = answers.at(-1);
    assert.equal(last?.statusCode, 429);
    assert.ok(
      last?.body.includes(
        `Too many passkey attempts. Try again in ${PASSKEY_ATTEMPT_LIMITS.account.lockMinutes} minutes, or choose a different method.`,
      ),
      last?.body,
    );
  });
});
