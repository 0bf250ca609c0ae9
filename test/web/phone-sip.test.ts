import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { type StartedTelephony, startTelephony } from '../../src/channels/telephony/index.ts';
import { defaultCoreSettings } from '../../src/core/index.ts';
import type { VerificationCall } from '../../src/core/methods/phone/telephony.ts';
import { type Baresip, startBaresip, testSipSettings } from '../helpers/baresip.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';

/**
 * The numbers the phone answers (baresip 1.0 answers only users it has an account for): UK mobiles
 * that libphonenumber accepts (the 07700 900 drama range is not a valid mobile to it).
 */
const NUMBERS = ['+447400300001', '+447400300002', '+447400300003'];
const national = (e164: string) => `0${e164.slice(3, 7)} ${e164.slice(7)}`;

const sipSettings = (sipPort: number) => testSipSettings(sipPort, 48000);

const phoneSettings = { phone: { ...defaultCoreSettings.phone, organisationName: 'Test Trust' } };

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000) {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`still not true after ${timeoutMs} ms: ${what}`);
}

describe('the Phone method with SIP: the portal calls a real SIP phone (baresip), which presses #', () => {
  let phone: Baresip;
  let portal: TestPortal;
  let counter = 0;

  before(async () => {
    phone = await startBaresip({ numbers: NUMBERS });
    portal = await startTestPortal({
      settings: phoneSettings,
      providers: {
        publicUrl: 'https://portal.example.test',
        settings: { voice: sipSettings(phone.sipPort) },
      },
    });
  });
  after(async () => {
    await portal?.close();
    await phone?.close();
  });

  /** A user at registration who chose Call me for this number. */
  async function registering(number: string) {
    const email = `sip${++counter}@example.org`;
    const account = await addUser(portal.core, email);
    await portal.core.enrolment.enable(account, '192.0.2.1');
    const pc = new InjectClient(portal.app);
    await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    phone.forgetEvents();
    const started = await pc.post(
      '/mfa/register/phone',
      { country: 'GB', number: national(number), channel: 'call', office: '0' },
      { formPage: '/mfa/register/phone' },
    );
    assert.equal(started.statusCode, 303, 'the call was placed');
    return { email, pc };
  }

  const status = async (pc: InjectClient, path = '/mfa/register/phone/status') =>
    (await pc.get(path)).json().status;

  /** The phone rings, answers by itself, and the person presses these keys. */
  async function answerAndPress(...keys: string[]) {
    await phone.waitUntilTalking();
    for (const key of keys) {
      assert.equal((await phone.command('sndcode', key)).ok, true);
      await sleep(250);
    }
  }

  test('Call me: the phone rings, # is pressed, the page moves on to Next; then signing in by call', async () => {
    const { pc, email } = await registering(NUMBERS[0]!);
    assert.equal(await status(pc), 'pending');
    await answerAndPress('#');
    await until('confirmed', async () => (await status(pc)) === 'confirmed');
    assert.match((await pc.get('/mfa/register/phone/call')).body, /Call answered/);
    const next = await pc.post('/mfa/register/phone/finish', {}, { formPage: '/mfa/register/phone/call' });
    assert.equal(next.headers.location, '/mfa/register/app-password');
    const types = (await portal.core.audit.list({ email, limit: 20 })).map((e) => e.type);
    assert.ok(types.includes('phone.registered') && types.includes('phone.verified'), types.join());
    await phone.waitForEvent('CALL_CLOSED', 10_000);

    // Signing in: a second call to the registered phone; # lets the waiting page through.
    phone.forgetEvents();
    const browser = new InjectClient(portal.app);
    await browser.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    assert.equal((await browser.get('/mfa/verify/phone')).headers.location, '/mfa/verify/phone/call');
    assert.equal(await status(browser, '/mfa/verify/phone/status'), 'pending');
    await answerAndPress('#');
    // The status that says confirmed also completes the sign-in, so it is read until then, once.
    let settled: unknown;
    await until('signed in', async () => {
      settled = (await browser.get('/mfa/verify/phone/status')).json();
      return (settled as { status: string }).status !== 'pending';
    });
    assert.deepEqual(settled, { status: 'confirmed', next: '/' });
    assert.equal((await browser.get('/')).statusCode, 200);
    await phone.waitForEvent('CALL_CLOSED', 10_000);
  });

  test('0 then # on the phone: reported, and audited', async () => {
    const { pc, email } = await registering(NUMBERS[1]!);
    await answerAndPress('0', '#');
    await until('reported', async () => (await status(pc)) === 'reported');
    const types = (await portal.core.audit.list({ email, limit: 20 })).map((e) => e.type);
    assert.ok(types.includes('phone.reported'), types.join());
    await phone.waitForEvent('CALL_CLOSED', 10_000);
  });
});

test('the call speaks the core message, which names the organisation', async () => {
  const phone = await startBaresip({ numbers: NUMBERS });
  const placed: VerificationCall[] = [];
  let telephony: StartedTelephony | undefined;
  let portal: TestPortal | undefined;
  try {
    telephony = await startTelephony(
      { voice: sipSettings(phone.sipPort) },
      {
        logger: pino({ level: process.env.GATEHOUSE_TEST_LOG ?? 'silent' }),
        onOutcome: (id, outcome) => portal!.core.phone.recordOutcome(id, outcome),
      },
    );
    const started = telephony;
    portal = await startTestPortal({
      settings: phoneSettings,
      telephony: {
        placeCall: (call) => {
          placed.push(call);
          return started.telephony.placeCall(call);
        },
        sendText: (message) => started.telephony.sendText(message),
      },
    });
    const account = await addUser(portal.core, 'org@example.org');
    await portal.core.enrolment.enable(account, '192.0.2.1');
    const pc = new InjectClient(portal.app);
    await pc.post('/signin', { email: 'org@example.org', password: TEST_PASSWORD }, { formPage: '/signin' });
    await pc.post(
      '/mfa/register/phone',
      { country: 'GB', number: national(NUMBERS[2]!), channel: 'call', office: '0' },
      { formPage: '/mfa/register/phone' },
    );
    assert.equal(placed.length, 1);
    assert.equal(placed[0]!.to, NUMBERS[2]);
    assert.match(
      placed[0]!.message,
      /^This is Test Trust sign-in verification\. To verify, press the hash key\./,
    );
    await phone.waitUntilTalking();
    assert.equal((await phone.command('sndcode', '#')).ok, true);
    await until(
      'confirmed',
      async () => (await pc.get('/mfa/register/phone/status')).json().status === 'confirmed',
    );
  } finally {
    await telephony?.close();
    await portal?.close();
    await phone.close();
  }
});
