import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import { manualClock } from '../helpers/clock.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';

/**
 * The guides' screens say what happens: the first page after sign-in offers `I want to set up a
 * different method` (guide 002, step 1), the drop-down chooses nothing by itself, and every title
 * and sentence names the method the user actually set up.
 */
describe('the registration pages say what the user chose and did', () => {
  const clock = manualClock();
  let portal: TestPortal;
  let counter = 0;

  before(async () => {
    portal = await startTestPortal({ clock, developmentPhone: true });
  });
  after(() => portal.close());

  async function signedInForRegistration() {
    const email = `wording${++counter}@example.org`;
    const account = await addUser(portal.core, email);
    await portal.core.enrolment.enable(account, '192.0.2.1');
    const pc = new InjectClient(portal.app);
    const signedIn = await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    assert.equal(signedIn.headers.location, '/mfa/register');
    return { email, pc };
  }

  test("the first page after sign-in has 'I want to set up a different method' at the bottom", async () => {
    const { pc } = await signedInForRegistration();
    const page = (await pc.get('/mfa/register')).body;
    const enrol = page.indexOf('Click me to enrol for Multi-Factor Authentication');
    const different = page.indexOf('>I want to set up a different method</a>');
    assert.ok(enrol > 0 && different > enrol, 'the link comes after the enrol link');
    assert.match(
      page,
      /<a class="nhsuk-link" href="\/mfa\/register\/different">I want to set up a different method<\/a>/,
    );
  });

  test('the drop-down has no method chosen, and Confirm without a choice asks for one', async () => {
    const { pc } = await signedInForRegistration();
    const page = (await pc.get('/mfa/register/different')).body;
    const options = [...page.matchAll(/<option value="([^"]*)"( selected)?>([^<]*)<\/option>/g)];
    assert.deepEqual(
      options.map((o) => [o[1], o[3]]),
      [
        ['', 'Choose a method'],
        ['authenticator_app', 'Authenticator app'],
        ['totp', 'Authenticator app (verification codes only)'],
        ['phone', 'Phone'],
        ['passkey', 'Passkey'],
      ],
    );
    assert.deepEqual(
      options.filter((o) => o[2]).map((o) => o[1]),
      [''],
      'only the empty choice is selected',
    );
    for (const form of [{ method: '' }, {}] as Record<string, string>[]) {
      const confirmed = await pc.post('/mfa/register/different', form, {
        formPage: '/mfa/register/different',
      });
      assert.equal(confirmed.statusCode, 400);
      assert.match(confirmed.body, /<title>Error: Choose a different method/);
      assert.match(confirmed.body, /There is a problem[\s\S]*<a href="#method">\s*Select a method\s*<\/a>/);
      assert.match(
        confirmed.body,
        /id="method-error">\s*<span class="nhsuk-u-visually-hidden">Error: <\/span>Select a method/,
      );
    }
    assert.equal(
      (await pc.post('/mfa/register/different', { method: 'phone' })).headers.location,
      '/mfa/register/phone',
    );
  });

  test('a phone: Call answered is the title once answered, and the end names the phone, not the app', async () => {
    const { pc } = await signedInForRegistration();
    const form = (await pc.get('/mfa/register/phone')).body;
    const example = /For example, (0[0-9 ]+[0-9])/.exec(form)?.[1];
    assert.ok(example, 'the page gives an example number');
    // The example the page gives is accepted: the development phone rings.
    const started = await pc.post(
      '/mfa/register/phone',
      { country: 'GB', number: example, channel: 'call', office: '0' },
      { formPage: '/mfa/register/phone' },
    );
    assert.equal(
      started.statusCode,
      303,
      (started.body.match(/error-message[^<]*<[^>]*>([^<]*)/) ?? [''])[0],
    );
    assert.equal(started.headers.location, '/mfa/register/phone/call');
    const ringing = await pc.get('/dev/phone');
    const challengeId = /\/dev\/phone\/calls\/([0-9a-f-]{36})\/key/.exec(ringing.body)?.[1];
    assert.ok(challengeId, 'a call is ringing');
    await pc.post(`/dev/phone/calls/${challengeId}/key`, { key: '#' }, { formPage: '/dev/phone' });
    const answered = (await pc.get('/mfa/register/phone/call')).body;
    assert.match(answered, /<title>Call answered - /);
    assert.match(answered, /<h1 class="nhsuk-heading-l">Call answered<\/h1>/);
    assert.doesNotMatch(answered, /expired/i);
    const next = await pc.post('/mfa/register/phone/finish', {}, { formPage: '/mfa/register/phone/call' });
    assert.equal(next.headers.location, '/mfa/register/app-password');
    const finished = (await pc.get('/mfa/register/finished')).body;
    assert.match(
      finished,
      /You have finished setting up your phone, <span class="gh-nowrap">\+44 7700 900982<\/span>/,
    );
    assert.match(finished, /we will call this phone: answer the call and press the # key/);
    assert.doesNotMatch(finished, /Authenticator/);
  });

  test('a verification-code app: the end names that app and its codes', async () => {
    const { pc } = await signedInForRegistration();
    await pc.post('/mfa/register/different', { method: 'totp' });
    const setup = await pc.get('/mfa/register/code-app');
    const secret = /id="totp-secret">([A-Z2-7 ]+)</.exec(setup.body)![1]!.replace(/ /g, '');
    const added = await pc.post('/mfa/register/code-app', { code: codeAt(secret, clock.now()) });
    assert.equal(added.headers.location, '/mfa/register/app-password');
    const finished = (await pc.get('/mfa/register/finished')).body;
    assert.match(
      finished,
      /You have finished setting up your authenticator app\. When you sign in with it, you will be asked for the 6-digit code the app shows\./,
    );
    assert.doesNotMatch(finished, /Gatehouse Authenticator|phone/);
  });

  test("self-enrolment's Confirm page names the organisation's own app, never another vendor's", async () => {
    const email = `wording${++counter}@example.org`;
    await addUser(portal.core, email);
    const pc = new InjectClient(portal.app);
    await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    const confirm = (await pc.get('/profile/self-service/mfa')).body;
    assert.match(confirm, /set up the Gatehouse Authenticator app, or another method such as your phone/);
    assert.doesNotMatch(confirm, /Microsoft/);
  });
});
