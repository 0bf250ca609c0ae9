import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { twilioTextSchema } from '../../src/channels/telephony/twilio/settings.ts';
import { twilioVoiceSchema } from '../../src/channels/telephony/twilio/voice.ts';
import { defaultCoreSettings } from '../../src/core/index.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { postAsTwilio, twilioSignature } from '../helpers/twilio-signing.ts';
import {
  startTwilioStandIn,
  type TwilioForm,
  type TwilioRequest,
  type TwilioStandIn,
} from '../helpers/twilio-stand-in.ts';

const TWILIO = { sid: `AC${'4d'.repeat(16)}`, authToken: 'portal-auth-token-0123456789abcd' };
const PUBLIC_URL = 'https://portal.example.test';

describe('the Phone method with Twilio: the portal, the REST stand-in, and the test playing Twilio', () => {
  let standIn: TwilioStandIn;
  let portal: TestPortal;
  let counter = 0;

  before(async () => {
    standIn = await startTwilioStandIn(TWILIO);
    const credentials = {
      provider: 'twilio',
      accountSid: TWILIO.sid,
      authToken: TWILIO.authToken,
      apiBaseUrl: standIn.url,
    };
    portal = await startTestPortal({
      settings: { phone: { ...defaultCoreSettings.phone, organisationName: 'Test Trust' } },
      providers: {
        publicUrl: PUBLIC_URL,
        settings: {
          voice: twilioVoiceSchema.parse({ ...credentials, from: '+441632960001' }),
          text: twilioTextSchema.parse({ ...credentials, from: 'TestTrust' }),
        },
      },
    });
  });
  after(async () => {
    await portal?.close();
    await standIn?.close();
  });

  /** A user at registration who selected Call me (or Text me a code) for a new number. */
  async function registering(channel: 'call' | 'sms' = 'call') {
    const email = `twilio${++counter}@example.org`;
    const account = await addUser(portal.core, email);
    await portal.core.enrolment.enable(account, '192.0.2.1');
    const pc = new InjectClient(portal.app);
    await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    const number = `07400 1${String(counter).padStart(5, '0')}`;
    const started = await pc.post(
      '/mfa/register/phone',
      { country: 'GB', number, channel, office: '0' },
      { formPage: '/mfa/register/phone' },
    );
    assert.equal(started.statusCode, 303, 'the call or text was accepted by Twilio');
    const to = `+447400${number.slice(-6)}`;
    const requests = standIn
      .posted(channel === 'call' ? 'Calls' : 'Messages')
      .filter((r) => r.form.To === to);
    assert.equal(requests.length, 1, 'the stand-in received the request for this number');
    return { email, pc, request: requests[0]!, account };
  }

  /** What Twilio sends with every request about a call it placed. */
  const callFields = (call: TwilioRequest, status = 'in-progress'): TwilioForm => ({
    AccountSid: TWILIO.sid,
    ApiVersion: '2010-04-01',
    CallSid: `CA${'5e'.repeat(16)}`,
    CallStatus: status,
    Direction: 'outbound-api',
    From: String(call.form.From),
    To: String(call.form.To),
  });

  /** Twilio fetching the TwiML it was given: the Gather's action URL, relative to the portal. */
  async function fetchTwiml(call: TwilioRequest) {
    const url = new URL(String(call.form.Url));
    const response = await postAsTwilio(portal.app, {
      authToken: TWILIO.authToken,
      publicUrl: PUBLIC_URL,
      path: `${url.pathname}${url.search}`,
      form: callFields(call),
    });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/xml/);
    assert.match(response.body, /<Say language="en-GB">This is Test Trust sign-in verification/);
    const action = /<Gather [^>]*action="([^"]+)"/.exec(response.body)?.[1];
    assert.ok(action?.startsWith(`${PUBLIC_URL}/telephony/twilio/calls/`), response.body);
    return new URL(action!).pathname;
  }

  /** Twilio posting the keys pressed (without the finishing #, as Twilio does). */
  const postDigits = (call: TwilioRequest, path: string, digits: string, signature?: string | null) =>
    postAsTwilio(portal.app, {
      authToken: TWILIO.authToken,
      publicUrl: PUBLIC_URL,
      path,
      form: { ...callFields(call), Digits: digits, FinishedOnKey: '#' },
      ...(signature === undefined ? {} : { signature }),
    });

  const postStatus = (call: TwilioRequest, status: string) =>
    postAsTwilio(portal.app, {
      authToken: TWILIO.authToken,
      publicUrl: PUBLIC_URL,
      path: new URL(String(call.form.StatusCallback)).pathname,
      form: { ...callFields(call, status), CallDuration: '0' },
    });

  const status = async (pc: InjectClient) => (await pc.get('/mfa/register/phone/status')).json().status;

  test('Call me: Twilio is asked to call, fetches the TwiML, posts # : the page moves on to Next', async () => {
    const { pc, request, email } = await registering();
    assert.equal(await status(pc), 'pending');
    const gather = await fetchTwiml(request);
    const answer = await postDigits(request, gather, '');
    assert.equal(answer.statusCode, 200);
    assert.match(answer.body, /You are verified[\s\S]*<Hangup\/>/);
    assert.equal(await status(pc), 'confirmed');
    assert.match((await pc.get('/mfa/register/phone/call')).body, /Call answered/);
    const next = await pc.post('/mfa/register/phone/finish', {}, { formPage: '/mfa/register/phone/call' });
    assert.equal(next.headers.location, '/mfa/register/app-password');
    // The call then ends: Twilio's completed callback changes nothing now.
    assert.equal((await postStatus(request, 'completed')).statusCode, 204);
    assert.equal(await status(pc), 'confirmed');
    const types = (await portal.core.audit.list({ email, limit: 20 })).map((e) => e.type);
    assert.ok(types.includes('phone.registered') && types.includes('phone.verified'));
  });

  test('signing in: Twilio calls the default phone, and the signed # moves the waiting page on', async () => {
    const { pc, request, email } = await registering();
    await postDigits(request, await fetchTwiml(request), '');
    await pc.post('/mfa/register/phone/finish', {}, { formPage: '/mfa/register/phone/call' });

    const browser = new InjectClient(portal.app);
    await browser.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    assert.equal((await browser.get('/mfa/verify/phone')).headers.location, '/mfa/verify/phone/call');
    const calls = standIn.posted('Calls').filter((r) => r.form.To === request.form.To);
    assert.equal(calls.length, 2, 'a second call, for the sign-in');
    const waiting = await browser.get('/mfa/verify/phone/status');
    assert.deepEqual(waiting.json(), { status: 'pending', next: '/mfa/verify/phone/call' });
    await postDigits(calls[1]!, await fetchTwiml(calls[1]!), '');
    assert.deepEqual((await browser.get('/mfa/verify/phone/status')).json(), {
      status: 'confirmed',
      next: '/',
    });
    assert.equal((await browser.get('/')).statusCode, 200);
  });

  test('forged, unsigned and misdirected webhooks get 403, change nothing, and are audited', async () => {
    const { pc, request } = await registering();
    const gather = await fetchTwiml(request);
    const challenge = gather.split('/')[4];
    const forgeries = [
      await postDigits(request, gather, '', null),
      await postDigits(request, gather, '', 'dGhpcyBpcyBub3QgYSBzaWduYXR1cmU='),
      // Signed with another auth token (someone else's Twilio account).
      await postAsTwilio(portal.app, {
        authToken: 'someone-elses-token-0123456789ab',
        publicUrl: PUBLIC_URL,
        path: gather,
        form: { ...callFields(request), Digits: '' },
      }),
      // A genuine signature, but for another address than the portal's.
      await postAsTwilio(portal.app, {
        authToken: TWILIO.authToken,
        publicUrl: 'https://attacker.example.test',
        path: gather,
        form: { ...callFields(request), Digits: '' },
      }),
      // The status callback and the TwiML are guarded too.
      await postAsTwilio(portal.app, {
        authToken: TWILIO.authToken,
        publicUrl: PUBLIC_URL,
        path: new URL(String(request.form.StatusCallback)).pathname,
        form: callFields(request, 'completed'),
        signature: null,
      }),
    ];
    assert.deepEqual(
      forgeries.map((r) => r.statusCode),
      [403, 403, 403, 403, 403],
    );
    assert.equal(await status(pc), 'pending', 'nothing settled');
    const refused = (await portal.core.audit.list({ limit: 200 })).filter(
      (e) => e.type === 'phone.webhook_refused' && e.detail.challenge === challenge,
    );
    assert.equal(refused.length, 5);
    assert.deepEqual(refused.map((e) => e.detail.reason).sort(), [
      'bad_signature',
      'bad_signature',
      'bad_signature',
      'no_signature',
      'no_signature',
    ]);
  });

  test('a tampered body under a genuine signature is refused (the signature covers the fields)', async () => {
    const { pc, request } = await registering();
    const gather = await fetchTwiml(request);
    const genuine = await postAsTwilio(portal.app, {
      authToken: TWILIO.authToken,
      publicUrl: PUBLIC_URL,
      path: gather,
      form: { ...callFields(request), Digits: '5' },
    });
    assert.equal(genuine.statusCode, 200);
    const { pc: other, request: otherCall } = await registering();
    const otherGather = await fetchTwiml(otherCall);
    // The signature of "5" replayed on a body saying "" (# alone): refused.
    const signatureOfFive = twilioSignature(TWILIO.authToken, `${PUBLIC_URL}${otherGather}`, {
      ...callFields(otherCall),
      Digits: '5',
    });
    assert.equal((await postDigits(otherCall, otherGather, '', signatureOfFive)).statusCode, 403);
    assert.equal(await status(other), 'pending');
    assert.equal(await status(pc), 'wrong_key');
  });

  test('a replayed webhook has no second effect: 0 then # reported once', async () => {
    const { pc, request, email } = await registering();
    const gather = await fetchTwiml(request);
    const first = await postDigits(request, gather, '0');
    assert.match(first.body, /stopped/);
    assert.equal(await status(pc), 'reported');
    const replay = await postDigits(request, gather, '0');
    assert.equal(replay.statusCode, 200);
    const confirmAttempt = await postDigits(request, gather, '');
    assert.equal(confirmAttempt.statusCode, 200);
    assert.equal(await status(pc), 'reported', 'the first outcome stays');
    const reports = (await portal.core.audit.list({ email, limit: 50 })).filter(
      (e) => e.type === 'phone.reported',
    );
    assert.equal(reports.length, 1);
  });

  test('another key is the wrong key; no answer, busy and failed calls each say why, with Try again', async () => {
    const wrong = await registering();
    await postDigits(wrong.request, await fetchTwiml(wrong.request), '5');
    assert.match(
      (await wrong.pc.get('/mfa/register/phone/call')).body,
      /The wrong key was pressed[\s\S]*Try again/,
    );
    for (const [callStatus, words] of [
      ['no-answer', /The call was not answered/],
      ['busy', /The call was declined/],
      ['failed', /We could not call your phone/],
      ['completed', /The call was not answered/],
    ] as const) {
      const { pc, request } = await registering();
      assert.equal((await postStatus(request, callStatus)).statusCode, 204);
      assert.match((await pc.get('/mfa/register/phone/call')).body, words, callStatus);
    }
  });

  test('progress callbacks (ringing, in-progress) settle nothing', async () => {
    const { pc, request } = await registering();
    await postStatus(request, 'ringing');
    await postStatus(request, 'in-progress');
    assert.equal(await status(pc), 'pending');
  });

  test('Text me a code: Twilio Messaging sends the six-digit code that the page accepts', async () => {
    const { pc, request } = await registering('sms');
    assert.equal(request.form.From, 'TestTrust');
    const code = /^(\d{6}) is your Test Trust verification code/.exec(String(request.form.Body))?.[1];
    assert.ok(code, String(request.form.Body));
    const right = await pc.post('/mfa/register/phone/code', { code });
    assert.equal(right.headers.location, '/mfa/register/app-password');
  });

  test('Twilio refusing the call: a clear message on the form, the challenge failed and audited', async () => {
    const email = `twilio${++counter}@example.org`;
    const account = await addUser(portal.core, email);
    await portal.core.enrolment.enable(account, '192.0.2.1');
    const pc = new InjectClient(portal.app);
    await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    standIn.failNext(400, 21215, 'Geo Permission configuration is not permitting call');
    const refused = await pc.post(
      '/mfa/register/phone',
      { country: 'GB', number: '07400 999111', channel: 'call', office: '0' },
      { formPage: '/mfa/register/phone' },
    );
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, /We could not call or text your phone right now\. Try again later/);
    const failed = (await portal.core.audit.list({ email, limit: 10 })).find(
      (e) => e.type === 'phone.failed',
    );
    assert.deepEqual([failed?.detail.reason, failed?.detail.cause], ['provider', 'twilio_rejected']);
    assert.equal(await status(pc), 'failed');
  });
});
