import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defaultCoreSettings } from '../../src/core/index.ts';
import { manualClock } from '../helpers/clock.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';

const MOBILE = '07400 123456';

describe('the Phone method with the development phone', () => {
  const clock = manualClock();
  let portal: TestPortal;
  let counter = 0;

  before(async () => {
    portal = await startTestPortal({
      clock,
      developmentPhone: true,
      settings: {
        phone: {
          ...defaultCoreSettings.phone,
          organisationName: 'Test Trust',
          perNumber: { maxFailures: 3, windowMinutes: 60, lockMinutes: 60 },
        },
      },
    });
  });
  after(() => portal.close());

  async function pcAtRegistration() {
    const email = `phone${++counter}@example.org`;
    const account = await addUser(portal.core, email);
    await portal.core.enrolment.enable(account, '192.0.2.1');
    const pc = new InjectClient(portal.app);
    await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    return { email, pc };
  }

  /** The dev phone's keypad: press the keys of the call ringing for `challengeId`. */
  async function press(pc: InjectClient, keys: string) {
    const phonePage = await pc.get('/dev/phone');
    const challengeId = /\/dev\/phone\/calls\/([0-9a-f-]{36})\/key/.exec(phonePage.body)?.[1];
    assert.ok(challengeId, 'a call is ringing on the development phone');
    assert.match(phonePage.body, /This is Test Trust sign-in verification\. To verify, press the hash key\./);
    for (const key of keys)
      await pc.post(`/dev/phone/calls/${challengeId}/key`, { key }, { formPage: '/dev/phone' });
  }

  async function registerNumber(pc: InjectClient, number = MOBILE, channel = 'call') {
    return pc.post(
      '/mfa/register/phone',
      { country: 'GB', number, channel, office: '0' },
      { formPage: '/mfa/register/phone' },
    );
  }

  test('I want to set up a different method offers Phone, and not Office phone by default', async () => {
    const { pc } = await pcAtRegistration();
    const page = await pc.get('/mfa/register/different');
    assert.match(page.body, /<option value="phone">Phone<\/option>/);
    assert.doesNotMatch(page.body, /Office phone/);
    const chosen = await pc.post('/mfa/register/different', { method: 'phone' });
    assert.equal(chosen.headers.location, '/mfa/register/phone');
    const office = await pc.post('/mfa/register/different', { method: 'office_phone' });
    assert.equal(office.statusCode, 400);
    const form = await pc.get('/mfa/register/phone');
    assert.match(form.body, /United Kingdom \(\+44\)/);
    assert.match(form.body, /Call me/);
    assert.match(form.body, /not linked to the number listed in your profile/);
  });

  test('Call me, answer and press #: the number is verified, Next leads to the app password', async () => {
    const { email, pc } = await pcAtRegistration();
    const started = await registerNumber(pc);
    assert.equal(started.headers.location, '/mfa/register/phone/call');
    const waiting = await pc.get('/mfa/register/phone/call');
    assert.match(waiting.body, /We&#39;re calling \+44 7400 123456|We're calling \+44 7400 123456/);
    assert.match(waiting.body, /press the <strong>#<\/strong> key/);
    await press(pc, '#');
    assert.equal((await pc.get('/mfa/register/phone/status')).json().status, 'confirmed');
    assert.match((await pc.get('/mfa/register/phone/call')).body, /Call answered/);
    const next = await pc.post('/mfa/register/phone/finish', {}, { formPage: '/mfa/register/phone/call' });
    assert.equal(next.headers.location, '/mfa/register/app-password');
    const account = (await portal.core.accounts.find(email))!;
    const [method] = await portal.store.methods.listForAccount(account.id);
    assert.equal(method?.kind, 'phone');
    assert.equal(method?.status, 'active');
    const types = (await portal.core.audit.list({ email, limit: 20 })).map((e) => e.type);
    assert.ok(types.includes('phone.call_placed') && types.includes('phone.registered'));
  });

  test('refuses a landline, a premium-rate, a foreign number and a Guernsey mobile with an explanation', async () => {
    const { email, pc } = await pcAtRegistration();
    for (const [number, words] of [
      ['020 7946 0018', /Enter a mobile phone number/],
      ['09098 790000', /Enter a mobile phone number/],
      ['+33 6 12 34 56 78', /This number is from France\. Only mobile numbers from the countries listed/],
      [
        '07781 123456',
        /This is a mobile number from Guernsey\. Only mobile numbers from the countries listed can be used: Guernsey shares the \+44 code with the United Kingdom but is not part of it\. Enter a UK mobile number, or ask your IT team to allow numbers from Guernsey/,
      ],
      ['not a number', /Enter a valid phone number, like 07700 900 982/],
    ] as const) {
      const response = await registerNumber(pc, number);
      assert.equal(response.statusCode, 400, number);
      assert.match(response.body, words);
    }
    assert.doesNotMatch((await pc.get('/dev/phone')).body, /Incoming call/, 'nothing was dialled');
    const refusals = (await portal.core.audit.list({ email, limit: 10 })).filter(
      (e) => e.type === 'phone.refused',
    );
    assert.equal(refusals.length, 5);
  });

  test('a wrong key, a declined call and no answer each give a clear message and Try again', async () => {
    const { pc } = await pcAtRegistration();
    await registerNumber(pc, '07400 222333');
    await press(pc, '5#');
    assert.match(
      (await pc.get('/mfa/register/phone/call')).body,
      /The wrong key was pressed[\s\S]*Try again/,
    );
    await pc.post('/mfa/register/phone/retry', {}, { formPage: '/mfa/register/phone/call' });
    const phonePage = await pc.get('/dev/phone');
    const id = /\/dev\/phone\/calls\/([0-9a-f-]{36})\/decline/.exec(phonePage.body)![1]!;
    await pc.post(`/dev/phone/calls/${id}/decline`, {}, { formPage: '/dev/phone' });
    const declined = (await pc.get('/mfa/register/phone/call')).body;
    assert.match(declined, /The call was declined/);
    await pc.post('/mfa/register/phone/retry', {}, { formPage: '/mfa/register/phone/call' });
    const ring = /\/dev\/phone\/calls\/([0-9a-f-]{36})\/ignore/.exec((await pc.get('/dev/phone')).body)![1]!;
    await pc.post(`/dev/phone/calls/${ring}/ignore`, {}, { formPage: '/dev/phone' });
    assert.match((await pc.get('/mfa/register/phone/call')).body, /The call was not answered/);
    const next = await pc.post('/mfa/register/phone/finish', {}, { formPage: '/mfa/register/phone/call' });
    assert.equal(next.headers.location, '/mfa/register/phone/call', 'no Next without a confirmed call');
  });

  test('Text me a code: the code from the text message verifies the number; a wrong one does not', async () => {
    const { pc } = await pcAtRegistration();
    const started = await registerNumber(pc, '07400 333444', 'sms');
    assert.equal(started.headers.location, '/mfa/register/phone/code');
    const text =
      /To \+447400333444: <span class="gh-text-message">(\d{6}) is your Test Trust verification code/.exec(
        (await pc.get('/dev/phone')).body,
      );
    assert.ok(text, 'the text message arrived with a 6-digit code');
    const wrong = await pc.post('/mfa/register/phone/code', {
      code: text[1] === '123456' ? '654321' : '123456',
    });
    assert.equal(wrong.statusCode, 400);
    const right = await pc.post('/mfa/register/phone/code', { code: text[1]! });
    assert.equal(right.headers.location, '/mfa/register/app-password');
  });

  test('signing in calls the default phone; # opens the portal; 0 then # reports and pauses calls', async () => {
    const { email, pc } = await pcAtRegistration();
    await registerNumber(pc, '07123 456789');
    await press(pc, '#');
    await pc.post('/mfa/register/phone/finish', {}, { formPage: '/mfa/register/phone/call' });

    const browser = new InjectClient(portal.app);
    const calls = async () =>
      (await portal.core.audit.list({ email, limit: 100 })).filter((e) => e.type === 'phone.call_placed')
        .length;
    const before = await calls();
    // The password's POST places the call; GETs (a reload, a link, a prefetch) place none.
    const signIn = await browser.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    assert.equal(signIn.headers.location, '/mfa/verify/phone/call');
    assert.equal(await calls(), before + 1);
    assert.equal((await browser.get('/mfa/verify')).headers.location, '/mfa/verify/phone/call');
    assert.equal((await browser.get('/mfa/verify/phone')).headers.location, '/mfa/verify/phone/call');
    await browser.get('/mfa/verify/phone/call');
    assert.equal(await calls(), before + 1, 'no GET rang the phone');
    await press(browser, '#');
    const status = (await browser.get('/mfa/verify/phone/status')).json();
    assert.deepEqual(status, { status: 'confirmed', next: '/' });
    assert.equal((await browser.get('/')).statusCode, 200);

    const attacker = new InjectClient(portal.app, '198.51.100.66');
    await attacker.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    await press(attacker, '0#');
    assert.match((await attacker.get('/mfa/verify/phone/call')).body, /You told us this was not you/);
    assert.equal((await attacker.get('/')).headers.location, '/mfa/verify');
    const again = await attacker.post('/mfa/verify/phone/retry', {}, { formPage: '/mfa/verify/phone/call' });
    assert.equal(again.statusCode, 429, 'calls are paused after a report');
    const types = (await portal.core.audit.list({ email, limit: 30 })).map((e) => e.type);
    assert.ok(types.includes('phone.reported'));
    clock.advanceMinutes(61);
  });

  test('toll-fraud limits: calls to one number stop after the limit, for everyone', async () => {
    const first = await pcAtRegistration();
    for (let i = 0; i < 3; i++) {
      const response =
        i === 0
          ? await registerNumber(first.pc, '07400 555666')
          : await first.pc.post('/mfa/register/phone/retry', {}, { formPage: '/mfa/register/phone/call' });
      assert.ok(response.statusCode === 303, `call ${i + 1} placed`);
    }
    const blocked = await first.pc.post(
      '/mfa/register/phone/retry',
      {},
      { formPage: '/mfa/register/phone/call' },
    );
    assert.equal(blocked.statusCode, 429);
    const second = await pcAtRegistration();
    const refused = await registerNumber(second.pc, '07400 555666');
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, /Too many calls or texts have been sent/);
  });
});
