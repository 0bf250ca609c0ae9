import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import type { VoiceProvider } from '../../src/channels/telephony/provider.ts';
import { parseWav } from '../../src/channels/telephony/sip/audio.ts';
import { startSipVoice } from '../../src/channels/telephony/sip/voice.ts';
import type { CallOutcome } from '../../src/core/methods/phone/telephony.ts';
import { type Baresip, startBaresip, testSipSettings } from '../helpers/baresip.ts';

/**
 * The SIP provider calling a real SIP phone: Debian's baresip, headless on 127.0.0.1, answering
 * and pressing keys (RFC 4733 telephone-events) when the test tells it to over ctrl_tcp.
 */

const NUMBER = '+447700900123';
const MESSAGE =
  'This is Test Trust sign-in verification. To verify, press the hash key. If you did not try to sign in, press zero, then the hash key.';
const logger = pino({ level: process.env.GATEHOUSE_TEST_LOG ?? 'silent' });

/** The provider pointed at a phone, and the outcomes it reports. */
async function provider(sipPort: number, extra: Record<string, unknown> = {}) {
  const outcomes = new Map<string, CallOutcome[]>();
  const voice: VoiceProvider = await startSipVoice(testSipSettings(sipPort, 46000, extra), {
    logger,
    onOutcome: async (id, outcome) => {
      outcomes.set(id, [...(outcomes.get(id) ?? []), outcome]);
    },
  });
  /** Places a call; `outcome()` waits for its one outcome. */
  async function call(message = MESSAGE) {
    const challengeId = randomUUID();
    await voice.placeCall({ challengeId, to: NUMBER, message });
    return {
      async outcome(timeoutMs = 15_000): Promise<CallOutcome> {
        for (let waited = 0; waited < timeoutMs; waited += 20) {
          const reported = outcomes.get(challengeId);
          if (reported) {
            await sleep(50);
            assert.equal(outcomes.get(challengeId)!.length, 1, 'reported once');
            return reported[0]!;
          }
          await sleep(20);
        }
        throw new Error('no outcome');
      },
    };
  }
  return { voice, call };
}

const rms = (samples: Int16Array) => Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length);

describe('a SIP call to baresip that answers', () => {
  let phone: Baresip;
  let sip: Awaited<ReturnType<typeof provider>>;
  before(async () => {
    phone = await startBaresip({ numbers: [NUMBER] });
    sip = await provider(phone.sipPort);
  });
  after(async () => {
    await sip?.voice.close();
    await phone?.close();
  });
  beforeEach(() => phone.forgetEvents());

  /** Presses these keys one after the other, as the caller would. */
  async function press(...keys: string[]) {
    for (const key of keys) {
      assert.equal((await phone.command('sndcode', key)).ok, true);
      await sleep(250);
    }
  }

  test('# verifies: confirmed, then the goodbye and BYE; baresip heard the spoken prompt in PCMU', async () => {
    phone.receivedAudio();
    const call = await sip.call();
    await phone.waitUntilTalking();
    // Let some of the prompt play before the key, as a person listening would.
    await sleep(700);
    await press('#');
    assert.equal(await call.outcome(), 'confirmed');
    // The closing words, then Gatehouse's BYE ends the call on the phone.
    await phone.waitForEvent('CALL_CLOSED', 10_000);
    const remoteSdp = phone.events.find((e) => e.type === 'CALL_REMOTE_SDP');
    assert.ok(remoteSdp, 'baresip saw our SDP offer');
    await sleep(200);
    const recordings = phone.receivedAudio();
    assert.equal(recordings.length, 1, 'baresip recorded what it decoded');
    const heard = parseWav(recordings[0]!);
    // About a second of the prompt and three of the closing words, all speech-loud, not silence.
    assert.ok(heard.samples.length / heard.sampleRate > 2, `${heard.samples.length / heard.sampleRate} s`);
    assert.ok(rms(heard.samples) > 300, `baresip heard speech (rms ${rms(heard.samples)})`);
  });

  test('0 then #: reported', async () => {
    const call = await sip.call();
    await phone.waitUntilTalking();
    await press('0', '#');
    assert.equal(await call.outcome(), 'reported');
    await phone.waitForEvent('CALL_CLOSED', 10_000);
  });

  test('another key then #: the wrong key', async () => {
    const call = await sip.call();
    await phone.waitUntilTalking();
    await press('5', '#');
    assert.equal(await call.outcome(), 'wrong_key');
    await phone.waitForEvent('CALL_CLOSED', 10_000);
  });

  test('the callee hangs up before any key: not answered, and nothing else happens', async () => {
    const call = await sip.call();
    await phone.waitForEvent('CALL_ESTABLISHED');
    assert.equal((await phone.command('hangup')).ok, true);
    assert.equal(await call.outcome(), 'no_answer');
  });
});

describe('a SIP call where no # comes', () => {
  let phone: Baresip;
  before(async () => {
    phone = await startBaresip({ numbers: [NUMBER] });
  });
  after(() => phone?.close());

  test('asked twice, then goodbye and BYE: not answered', async () => {
    const sip = await provider(phone.sipPort, { keySeconds: 3 });
    try {
      const started = Date.now();
      const call = await sip.call('Press the hash key.');
      await phone.waitForEvent('CALL_ESTABLISHED');
      assert.equal(await call.outcome(20_000), 'no_answer');
      // Two prompts of about a second, each followed by three seconds for keys.
      assert.ok(Date.now() - started > 7000, `${Date.now() - started} ms`);
      await phone.waitForEvent('CALL_CLOSED', 10_000);
    } finally {
      await sip.voice.close();
    }
  });
});

describe('a SIP call to baresip that does not answer', () => {
  let phone: Baresip;
  let sip: Awaited<ReturnType<typeof provider>>;
  before(async () => {
    phone = await startBaresip({ numbers: [NUMBER], answerMode: 'manual' });
    sip = await provider(phone.sipPort, { ringSeconds: 5 });
  });
  after(async () => {
    await sip?.voice.close();
    await phone?.close();
  });
  beforeEach(() => phone.forgetEvents());

  test('rejected on the phone: rejected, and the provider carries on', async () => {
    const call = await sip.call();
    await phone.waitForEvent('CALL_INCOMING');
    assert.equal((await phone.command('hangup')).ok, true);
    assert.equal(await call.outcome(), 'rejected');
  });

  test('left ringing past ringSeconds: CANCEL, not answered; the phone stops ringing', async () => {
    const started = Date.now();
    const call = await sip.call();
    await phone.waitForEvent('CALL_INCOMING');
    assert.equal(await call.outcome(10_000), 'no_answer');
    assert.ok(Date.now() - started >= 4900, `${Date.now() - started} ms`);
    await phone.waitForEvent('CALL_CLOSED', 5000);
  });
});

test('no phone at the address: the INVITE goes unanswered and the call fails cleanly', async () => {
  // A port nothing listens on (taken from a phone that has stopped).
  const gone = await startBaresip({ numbers: [NUMBER] });
  const port = gone.sipPort;
  await gone.close();
  const sip = await provider(port, { ringSeconds: 5 });
  try {
    const started = Date.now();
    const call = await sip.call();
    assert.equal(await call.outcome(10_000), 'failed');
    assert.ok(Date.now() - started >= 4900);
  } finally {
    await sip.voice.close();
  }
});
