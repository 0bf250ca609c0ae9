import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { twilioTextSchema } from '../../src/channels/telephony/twilio/settings.ts';
import { twilioVoiceSchema } from '../../src/channels/telephony/twilio/voice.ts';
import { defaultCoreSettings } from '../../src/core/index.ts';
import type { PhoneSettings } from '../../src/core/methods/phone/settings.ts';
import { type TestDatabase, testDatabase } from '../helpers/engines.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { startTwilioStandIn, type TwilioStandIn } from '../helpers/twilio-stand-in.ts';

const TWILIO = { sid: `AC${'6a'.repeat(16)}`, authToken: 'limits-auth-token-0123456789abcd' };

/**
 * Toll fraud: every limit and the country rules, each shown to stop calls before they reach the
 * provider (the Twilio stand-in's requests are counted), so removing one fails its test.
 */
describe('toll-fraud limits and country rules, with Twilio as the provider', () => {
  let standIn: TwilioStandIn;
  const opened: { close(): Promise<void> }[] = [];
  let counter = 0;

  before(async () => {
    standIn = await startTwilioStandIn(TWILIO);
  });
  afterEach(async () => {
    for (const thing of opened.splice(0).reverse()) await thing.close();
  });
  after(() => standIn.close());

  async function portalWith(phone: Partial<PhoneSettings>, database?: TestDatabase) {
    const credentials = {
      provider: 'twilio',
      accountSid: TWILIO.sid,
      authToken: TWILIO.authToken,
      apiBaseUrl: standIn.url,
    };
    const portal = await startTestPortal({
      ...(database ? { database } : {}),
      settings: { phone: { ...defaultCoreSettings.phone, organisationName: 'Test Trust', ...phone } },
      providers: {
        publicUrl: 'https://portal.example.test',
        settings: {
          voice: twilioVoiceSchema.parse({ ...credentials, from: '+441632960001' }),
          text: twilioTextSchema.parse({ ...credentials, from: 'TestTrust' }),
        },
      },
    });
    opened.push(portal);
    return portal;
  }

  async function userAtRegistration(portal: TestPortal) {
    const email = `limits${++counter}@example.org`;
    const account = await addUser(portal.core, email);
    await portal.core.enrolment.enable(account, '192.0.2.1');
    const pc = new InjectClient(portal.app);
    await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    return { email, pc };
  }

  const callMe = (pc: InjectClient, number: string, country = 'GB') =>
    pc.post(
      '/mfa/register/phone',
      { country, number, channel: 'call', office: '0' },
      { formPage: '/mfa/register/phone' },
    );
  const callAgain = (pc: InjectClient) =>
    pc.post('/mfa/register/phone/retry', {}, { formPage: '/mfa/register/phone/call' });
  const callsTo = (e164: string) => standIn.posted('Calls').filter((r) => r.form.To === e164).length;

  test('per account: after the limit no more calls for that account, whatever the number', async () => {
    const portal = await portalWith({
      perAccount: { maxFailures: 2, windowMinutes: 60, lockMinutes: 60 },
      perNumber: { maxFailures: 10, windowMinutes: 60, lockMinutes: 60 },
    });
    const { pc, email } = await userAtRegistration(portal);
    assert.equal((await callMe(pc, '07400 310001')).statusCode, 303);
    assert.equal((await callAgain(pc)).statusCode, 303);
    assert.equal((await callAgain(pc)).statusCode, 429);
    const another = await callMe(pc, '07400 310002');
    assert.equal(another.statusCode, 400);
    assert.match(another.body, /Too many calls or texts have been sent/);
    assert.equal(callsTo('+447400310001'), 2);
    assert.equal(callsTo('+447400310002'), 0, 'the refused call never reached Twilio');
    const refusals = (await portal.core.audit.list({ email, limit: 20 })).filter(
      (e) => e.type === 'phone.refused',
    );
    assert.deepEqual(
      refusals.map((e) => [e.detail.reason, e.detail.key]),
      [
        ['limit', 'account'],
        ['limit', 'account'],
      ],
    );
  });

  test('per number: after the limit no more calls to that number, for anyone', async () => {
    const portal = await portalWith({
      perAccount: { maxFailures: 10, windowMinutes: 60, lockMinutes: 60 },
      perNumber: { maxFailures: 2, windowMinutes: 60, lockMinutes: 60 },
    });
    const first = await userAtRegistration(portal);
    await callMe(first.pc, '07400 320001');
    await callAgain(first.pc);
    const second = await userAtRegistration(portal);
    const refused = await callMe(second.pc, '07400 320001');
    assert.equal(refused.statusCode, 400);
    assert.equal(callsTo('+447400320001'), 2);
    const [refusal] = (await portal.core.audit.list({ email: second.email, limit: 5 })).filter(
      (e) => e.type === 'phone.refused',
    );
    assert.equal(refusal?.detail.key, 'number');
  });

  test('per country per day: after the limit no more calls to that country, for anyone', async () => {
    const portal = await portalWith({ perCountryPerDay: 3 });
    for (const number of ['07400 330001', '07400 330002', '07400 330003']) {
      const { pc } = await userAtRegistration(portal);
      assert.equal((await callMe(pc, number)).statusCode, 303);
    }
    const { pc, email } = await userAtRegistration(portal);
    assert.equal((await callMe(pc, '07400 330004')).statusCode, 400);
    assert.equal(callsTo('+447400330004'), 0);
    const [refusal] = (await portal.core.audit.list({ email, limit: 5 })).filter(
      (e) => e.type === 'phone.refused',
    );
    assert.equal(refusal?.detail.key, 'country');
  });

  test('a country removed from the allow-list stops calls and texts to numbers registered before', async () => {
    const database = testDatabase('sqlite');
    opened.push({ close: () => database.drop() });
    const before = await portalWith({ allowedCountries: ['GB', 'IE'] }, database);
    const { pc, email } = await userAtRegistration(before);
    assert.equal((await callMe(pc, '085 012 3456', 'IE')).statusCode, 303);
    const status = await pc.get('/mfa/register/phone/status');
    assert.equal(status.json().status, 'pending');
    // The callee pressed #: the Irish number is registered while Ireland is allowed.
    const latest = (await before.core.audit.list({ email, limit: 10 })).find(
      (e) => e.type === 'phone.call_placed',
    );
    await before.core.phone.recordOutcome(String(latest?.detail.challenge), 'confirmed');
    assert.equal(
      (await pc.post('/mfa/register/phone/finish', {}, { formPage: '/mfa/register/phone/call' })).headers
        .location,
      '/mfa/register/app-password',
    );
    const callsBefore = callsTo('+353850123456');
    const textsBefore = standIn.posted('Messages').length;

    // The operator removes Ireland and restarts: the same database, the new rules.
    const after = await portalWith({ allowedCountries: ['GB'] }, database);
    const browser = new InjectClient(after.app);
    // The password's POST tries the call at once, and says why it cannot be made.
    const signIn = await browser.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    assert.equal(signIn.statusCode, 503);
    assert.match(signIn.body, /Calls and texts to this number are no longer allowed/);
    const text = await browser.post('/mfa/verify/phone/text', {}, { formPage: '/mfa/verify/phone/code' });
    assert.equal(text.statusCode, 503);
    assert.equal(callsTo('+353850123456'), callsBefore, 'no call reached Twilio');
    assert.equal(standIn.posted('Messages').length, textsBefore, 'no text reached Twilio');
    const refusals = (await after.core.audit.list({ email, limit: 20 })).filter(
      (e) => e.type === 'phone.refused' && e.detail.at === 'dial',
    );
    assert.deepEqual(
      refusals.map((e) => [e.detail.reason, e.detail.country]),
      [
        ['phone_country_not_allowed', 'IE'],
        ['phone_country_not_allowed', 'IE'],
      ],
    );
    assert.equal((await browser.get('/')).headers.location, '/mfa/verify', 'still not signed in');
  });
});
