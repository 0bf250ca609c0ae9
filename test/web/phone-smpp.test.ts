import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { smppTextSchema } from '../../src/channels/telephony/smpp/settings.ts';
import { defaultCoreSettings } from '../../src/core/index.ts';
import { eventually } from '../helpers/eventually.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { type Smsc, startSmsc } from '../helpers/smsc.ts';

const SMSC_ACCOUNT = { systemId: 'gatehouse', password: 'pw4smsc' };

describe('Text me a code through an SMS centre (SMPP 3.4)', () => {
  let smsc: Smsc;
  let portal: TestPortal;
  let counter = 0;

  before(async () => {
    smsc = await startSmsc(SMSC_ACCOUNT);
    portal = await startTestPortal({
      // Texts only, as config.ts makes it for an SMS centre without a voice provider.
      settings: {
        phone: { ...defaultCoreSettings.phone, organisationName: 'Test Trust', allowCalls: false },
      },
      providers: {
        publicUrl: 'https://portal.example.test',
        settings: {
          text: {
            ...smppTextSchema.parse({
              provider: 'smpp',
              url: smsc.url,
              systemId: SMSC_ACCOUNT.systemId,
              password: SMSC_ACCOUNT.password,
              sourceAddress: 'TestTrust',
              timeoutSeconds: 1,
            }),
            reconnectSeconds: { first: 0.05, last: 0.2 },
          },
        },
      },
    });
  });
  after(async () => {
    await portal?.close();
    await smsc?.close();
  });

  async function signedInAtRegistration() {
    const email = `smpp${++counter}@example.org`;
    const account = await addUser(portal.core, email);
    await portal.core.enrolment.enable(account, '192.0.2.1');
    const pc = new InjectClient(portal.app);
    await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    return { email, pc, number: `07400 2${String(counter).padStart(5, '0')}` };
  }

  const textMeACode = (pc: InjectClient, number: string) =>
    pc.post(
      '/mfa/register/phone',
      { country: 'GB', number, channel: 'sms', office: '0' },
      { formPage: '/mfa/register/phone' },
    );

  /** The code in the latest text the SMS centre received for this number. */
  function codeSentTo(number: string): string {
    const to = `447400${number.slice(-6)}`;
    const text = smsc.inbox.filter((sms) => sms.to === to).at(-1)?.text ?? '';
    const code = /^(\d{6}) is your Test Trust verification code\. Do not share it with anyone\.$/.exec(
      text,
    )?.[1];
    assert.ok(code, `a code texted to ${to}: "${text}"`);
    return code;
  }

  test('the SMS centre receives the right number and a code that the page then accepts', async () => {
    const { pc, number, email } = await signedInAtRegistration();
    const started = await textMeACode(pc, number);
    assert.equal(started.headers.location, '/mfa/register/phone/code');
    const code = codeSentTo(number);
    const wrong = await pc.post('/mfa/register/phone/code', {
      code: code === '111111' ? '222222' : '111111',
    });
    assert.equal(wrong.statusCode, 400);
    const right = await pc.post('/mfa/register/phone/code', { code });
    assert.equal(right.headers.location, '/mfa/register/app-password');
    const sent = (await portal.core.audit.list({ email, limit: 20 })).find(
      (e) => e.type === 'phone.text_sent',
    );
    assert.ok(sent, 'the text is audited');
  });

  /** Each way an SMS centre fails, then recovers; `breakIt` returns how to mend it. */
  const failures: [string, string, () => Promise<() => Promise<void>>][] = [
    [
      'bind refused',
      'smpp_bind_failed',
      async () => {
        smsc.behaviour.bind = 'refuse';
        const binds = smsc.events.filter((e) => e.startsWith('bind')).length;
        await smsc.stop(); // drops the bound link, so the next text needs a new bind
        await smsc.restart();
        await eventually(
          'the link tried to bind again',
          () => smsc.events.filter((e) => e.startsWith('bind')).length > binds,
        );
        return async () => {
          smsc.behaviour.bind = 'check';
        };
      },
    ],
    [
      'submit_sm error status',
      'smpp_submit_failed',
      async () => {
        smsc.behaviour.submit = 'error';
        return async () => {
          smsc.behaviour.submit = 'accept';
        };
      },
    ],
    [
      'SMS centre down',
      'smpp_unreachable',
      async () => {
        await smsc.stop();
        return () => smsc.restart();
      },
    ],
    [
      'no answer to submit_sm',
      'smpp_timeout',
      async () => {
        smsc.behaviour.submit = 'silent';
        return async () => {
          smsc.behaviour.submit = 'accept';
        };
      },
    ],
  ];

  for (const [name, cause, breakIt] of failures) {
    test(`${name}: a clear message, the challenge failed and audited; after recovery a retry works`, async () => {
      const { pc, number, email } = await signedInAtRegistration();
      const mend = await breakIt();
      try {
        const refused = await textMeACode(pc, number);
        assert.equal(refused.statusCode, 400);
        assert.match(refused.body, /We could not call or text your phone right now\. Try again later/);
        assert.equal((await pc.get('/mfa/register/phone/status')).json().status, 'failed');
        const failed = (await portal.core.audit.list({ email, limit: 10 })).find(
          (e) => e.type === 'phone.failed',
        );
        assert.deepEqual(
          [failed?.detail.channel, failed?.detail.reason, failed?.detail.cause],
          ['sms', 'provider', cause],
        );
      } finally {
        await mend();
      }
      const retried = await pc.post('/mfa/register/phone/text', {}, { formPage: '/mfa/register/phone/code' });
      assert.equal(retried.headers.location, '/mfa/register/phone/code');
      const right = await pc.post('/mfa/register/phone/code', { code: codeSentTo(number) });
      assert.equal(right.headers.location, '/mfa/register/app-password');
    });
  }

  test('texts only: the form offers Text me a code alone, and signing in texts a code', async () => {
    const { pc, number, email } = await signedInAtRegistration();
    const form = (await pc.get('/mfa/register/phone')).body;
    assert.doesNotMatch(form, /Call me/);
    assert.match(form, /value="sms" checked/);
    assert.match(form, /You can prove who you are with a code we text to your phone\./);
    const call = await pc.post(
      '/mfa/register/phone',
      { country: 'GB', number, channel: 'call', office: '0' },
      { formPage: '/mfa/register/phone' },
    );
    assert.equal(call.statusCode, 400, 'a call cannot be asked for');
    await textMeACode(pc, number);
    await pc.post('/mfa/register/phone/code', { code: codeSentTo(number) });
    const texts = smsc.inbox.length;

    const browser = new InjectClient(portal.app);
    await browser.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    assert.equal((await browser.get('/mfa/verify/phone')).headers.location, '/mfa/verify/phone/code');
    assert.equal(smsc.inbox.length, texts + 1, 'a text, not a call');
    const signedIn = await browser.post('/mfa/verify/phone/code', { code: codeSentTo(number) });
    assert.equal(signedIn.headers.location, '/');
  });

  test('a failed retry says so on its page, with a way back', async () => {
    const { pc, number } = await signedInAtRegistration();
    await textMeACode(pc, number);
    smsc.behaviour.submit = 'error';
    try {
      const retried = await pc.post('/mfa/register/phone/text', {}, { formPage: '/mfa/register/phone/code' });
      assert.equal(retried.statusCode, 503);
      assert.match(retried.body, /We could not contact your phone[\s\S]*Try again later/);
      assert.match(retried.body, /href="\/mfa\/register\/phone\/code">Go back/);
    } finally {
      smsc.behaviour.submit = 'accept';
    }
  });
});
