import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import pino from 'pino';
import twilio from 'twilio';
import { twilioTextSchema } from '../../src/channels/telephony/twilio/settings.ts';
import { startTwilioText } from '../../src/channels/telephony/twilio/text.ts';
import { closingTwiml, verificationTwiml } from '../../src/channels/telephony/twilio/twiml.ts';
import { startTwilioVoice, twilioVoiceSchema } from '../../src/channels/telephony/twilio/voice.ts';
import { twilioSignature } from '../helpers/twilio-signing.ts';
import { startTwilioStandIn, type TwilioStandIn } from '../helpers/twilio-stand-in.ts';

const TWILIO = { sid: `AC${'1f'.repeat(16)}`, authToken: 'test-auth-token-0123456789abcdef' };
const logger = pino({ level: process.env.GATEHOUSE_TEST_LOG ?? 'silent' });
const deps = { logger, onOutcome: async () => {} };
const CHALLENGE = '3b1d7e2a-52f4-4f7e-8c3e-6d2b9a0c1e55';
const MESSAGE =
  'This is Test Trust sign-in verification. To verify, press the hash key. If you did not try to sign in, press zero, then the hash key.';

/** TwiML read back as XML elements, attributes kept as attributes, in document order. */
function parseTwiml(xml: string) {
  assert.equal(XMLValidator.validate(xml), true, 'well-formed XML');
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', preserveOrder: true });
  const [, response] = parser.parse(xml) as [unknown, { Response: Record<string, unknown>[] }];
  return response.Response.map((verb) => {
    const name = Object.keys(verb).find((k) => k !== ':@')!;
    return {
      name,
      attributes: (verb[':@'] ?? {}) as Record<string, string>,
      children: verb[name] as Record<string, unknown>[],
    };
  });
}

const textOf = (children: Record<string, unknown>[]) =>
  children.map((c) => (c['#text'] === undefined ? '' : String(c['#text']))).join('');

describe('Twilio through the official package, against a local stand-in of its REST API', () => {
  let standIn: TwilioStandIn;
  before(async () => {
    standIn = await startTwilioStandIn(TWILIO);
  });
  after(() => standIn.close());

  const voiceSettings = (extra: Record<string, unknown> = {}) =>
    twilioVoiceSchema.parse({
      provider: 'twilio',
      accountSid: TWILIO.sid,
      authToken: TWILIO.authToken,
      from: '+441632960001',
      apiBaseUrl: standIn.url,
      webhookBaseUrl: 'https://portal.example.test/',
      ...extra,
    });

  test('a call: calls.create with the number, the TwiML and status URLs, ring time and a cost cap', async () => {
    const voice = await startTwilioVoice(voiceSettings({ ringSeconds: 25 }), deps);
    await voice.placeCall({ challengeId: CHALLENGE, to: '+447400123456', message: MESSAGE });
    const [request] = standIn.posted('Calls').slice(-1);
    assert.equal(request?.path, `/2010-04-01/Accounts/${TWILIO.sid}/Calls.json`);
    assert.deepEqual([request?.username, request?.password], [TWILIO.sid, TWILIO.authToken]);
    const base = `https://portal.example.test/telephony/twilio/calls/${CHALLENGE}`;
    assert.deepEqual(request?.form, {
      To: '+447400123456',
      From: '+441632960001',
      Url: `${base}/twiml?${new URLSearchParams({ say: MESSAGE })}`,
      Method: 'POST',
      StatusCallback: `${base}/status`,
      StatusCallbackMethod: 'POST',
      StatusCallbackEvent: 'completed',
      Timeout: '25',
      TimeLimit: '120',
    });
    assert.ok(!('MachineDetection' in (request?.form ?? {})), 'no answering-machine detection');
  });

  test('a text: messages.create from the number, or through a Messaging Service', async () => {
    const base = {
      provider: 'twilio',
      accountSid: TWILIO.sid,
      authToken: TWILIO.authToken,
      apiBaseUrl: standIn.url,
    };
    const byNumber = await startTwilioText(twilioTextSchema.parse({ ...base, from: '+441632960001' }), deps);
    const byService = await startTwilioText(
      twilioTextSchema.parse({ ...base, messagingServiceSid: `MG${'2a'.repeat(16)}` }),
      deps,
    );
    await byNumber.sendText({ challengeId: CHALLENGE, to: '+447400123456', text: '123456 is your code' });
    await byService.sendText({ challengeId: CHALLENGE, to: '+447400654321', text: '654321 is your code' });
    assert.deepEqual(
      standIn
        .posted('Messages')
        .slice(-2)
        .map((r) => r.form),
      [
        { To: '+447400123456', Body: '123456 is your code', From: '+441632960001' },
        { To: '+447400654321', Body: '654321 is your code', MessagingServiceSid: `MG${'2a'.repeat(16)}` },
      ],
    );
  });

  test('a text needs exactly one of from and messagingServiceSid', () => {
    const base = { provider: 'twilio', accountSid: TWILIO.sid, authToken: TWILIO.authToken };
    assert.equal(twilioTextSchema.safeParse(base).success, false);
    assert.equal(
      twilioTextSchema.safeParse({ ...base, from: 'Gatehouse', messagingServiceSid: `MG${'2a'.repeat(16)}` })
        .success,
      false,
    );
    assert.equal(twilioTextSchema.safeParse({ ...base, from: 'Gatehouse' }).success, true, 'sender ID');
  });

  test('Twilio refusing the call is a clear error with its code, never quoting the number', async () => {
    const voice = await startTwilioVoice(voiceSettings(), deps);
    standIn.failNext(400, 21211, "The 'To' number +447400123456 is not a valid phone number.");
    await assert.rejects(
      voice.placeCall({ challengeId: CHALLENGE, to: '+447400123456', message: MESSAGE }),
      (error: Error & { code: string }) => {
        assert.equal(error.code, 'twilio_rejected');
        assert.match(error.message, /HTTP 400, Twilio error 21211/);
        assert.doesNotMatch(error.message, /7400123456/);
        return true;
      },
    );
  });

  test('a wrong auth token is refused by the API (401), and Twilio out of reach is its own error', async () => {
    const voice = await startTwilioVoice(
      voiceSettings({ authToken: 'another-token-0123456789abcdef' }),
      deps,
    );
    await assert.rejects(voice.placeCall({ challengeId: CHALLENGE, to: '+447400123456', message: MESSAGE }), {
      code: 'twilio_rejected',
      message: /HTTP 401, Twilio error 20003/,
    });
    const gone = await startTwilioStandIn(TWILIO);
    await gone.close();
    const unreachable = await startTwilioVoice(voiceSettings({ apiBaseUrl: gone.url }), deps);
    await assert.rejects(
      unreachable.placeCall({ challengeId: CHALLENGE, to: '+447400123456', message: MESSAGE }),
      {
        code: 'twilio_unreachable',
        message: /ECONNREFUSED/,
      },
    );
  });
});

describe('the TwiML of a verification call', () => {
  const action = `https://portal.example.test/telephony/twilio/calls/${CHALLENGE}/gather`;

  test('says the message in en-GB inside a Gather ended by #, asks twice, then hangs up', () => {
    const verbs = parseTwiml(verificationTwiml(MESSAGE, action, 8));
    assert.deepEqual(
      verbs.map((v) => v.name),
      ['Gather', 'Gather', 'Say', 'Hangup'],
    );
    for (const gather of verbs.slice(0, 2)) {
      assert.deepEqual(gather.attributes, {
        input: 'dtmf',
        finishOnKey: '#',
        timeout: '8',
        action,
        method: 'POST',
      });
      const [say] = gather.children;
      assert.deepEqual(say?.[':@'], { language: 'en-GB' });
      assert.match(
        textOf(say?.Say as Record<string, unknown>[]),
        /^This is Test Trust sign-in verification\. To verify, press the hash key\./,
      );
    }
  });

  test('silence never reaches the action URL: actionOnEmptyResult is not set', () => {
    const xml = verificationTwiml(MESSAGE, action, 8);
    assert.doesNotMatch(xml, /actionOnEmptyResult/);
  });

  test('organisation names with XML characters are escaped, not markup', () => {
    const verbs = parseTwiml(verificationTwiml('This is A&B <Trust> calling.', action, 8));
    assert.equal(
      textOf(verbs[0]!.children[0]!.Say as Record<string, unknown>[]),
      'This is A&B <Trust> calling.',
    );
  });

  test('after the keys: words for the outcome, then the call ends', () => {
    const verbs = parseTwiml(closingTwiml('confirmed'));
    assert.deepEqual(
      verbs.map((v) => v.name),
      ['Say', 'Hangup'],
    );
    assert.match(textOf(verbs[0]!.children), /You are verified/);
    assert.match(textOf(parseTwiml(closingTwiml('reported'))[0]!.children), /stopped/);
  });
});

test('the test signs requests exactly as Twilio does (checked against the official package)', () => {
  const url = `https://portal.example.test/telephony/twilio/calls/${CHALLENGE}/gather`;
  const form = { CallSid: `CA${'3c'.repeat(16)}`, Digits: '', AccountSid: TWILIO.sid, Repeated: ['b', 'a'] };
  assert.equal(
    twilioSignature(TWILIO.authToken, url, form),
    twilio.getExpectedTwilioSignature(TWILIO.authToken, url, form),
  );
  assert.ok(
    twilio.validateRequest(TWILIO.authToken, twilioSignature(TWILIO.authToken, url, form), url, form),
  );
});
