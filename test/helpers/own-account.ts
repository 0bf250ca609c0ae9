import type { Core } from '../../src/core/index.ts';
import type { Telephony, TextMessage, VerificationCall } from '../../src/core/methods/phone/telephony.ts';
import type { Store } from '../../src/core/store.ts';

/**
 * The telephone network's side of a test (it needs the internet otherwise): what was "sent", so a
 * test can read a text's code or answer a call as the phone would, through the core's own sink.
 */
export function recordingTelephony() {
  const texts: TextMessage[] = [];
  const calls: VerificationCall[] = [];
  const telephony: Telephony = {
    async placeCall(call) {
      calls.push(call);
    },
    async sendText(message) {
      texts.push(message);
    },
  };
  return {
    telephony,
    texts,
    calls,
    /** The code in the last text message sent to `to` (or any). */
    lastCode(to?: string): string {
      const text = [...texts].reverse().find((t) => !to || t.to === to);
      const code = text && /^(\d{6}) /.exec(text.text)?.[1];
      if (!code) throw new Error('no text message with a code was sent');
      return code;
    },
    /** Answers the last call by pressing # (what the automated call asks). */
    async answerLastCall(core: Core) {
      const call = calls.at(-1);
      if (!call) throw new Error('no call was placed');
      await core.phone.recordOutcome(call.challengeId, 'confirmed');
    },
  };
}

/** A UK mobile registered as the account's phone (as the Phone wizard leaves it), active. */
export async function insertPhone(
  store: Store,
  accountId: string,
  number = '+447700900123',
  isDefault = false,
) {
  const id = crypto.randomUUID();
  await store.methods.insert({
    id,
    accountId,
    kind: 'phone',
    label: number.replace(/^\+44(\d{4})(\d{6})$/, '+44 $1 $2'),
    status: 'active',
    isDefault,
    createdAt: new Date(),
    lastUsedAt: null,
    data: { number, country: 'GB', office: false },
  });
  return id;
}

/** Waits until `check` gives a value (mail and other sockets answer a moment later); fails after `ms`. */
export async function until<T>(check: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  for (let waited = 0; waited < ms; waited += 50) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`still nothing after ${ms} ms`);
}
