import twilio from 'twilio';
import type { CallOutcome } from '../../../core/methods/phone/telephony.ts';
import { closingWords, noKeyWords } from '../keys.ts';

/** The keys' meaning is shared with the other voice providers (../keys.ts). */
export { outcomeOfDigits } from '../keys.ts';

const language = 'en-GB';

/**
 * The call: the core's message, then up to `keySeconds` for keys, ended by #; asked twice, then
 * goodbye. `actionOnEmptyResult` stays off on purpose: a prompt that times out without a key then
 * falls through to the next verb instead of posting an empty `Digits`, so an empty `Digits` at the
 * action URL can only mean "# pressed alone" and silence can never verify anyone.
 */
export function verificationTwiml(message: string, actionUrl: string, keySeconds: number): string {
  const response = new twilio.twiml.VoiceResponse();
  for (let attempt = 0; attempt < 2; attempt++) {
    response
      .gather({ input: ['dtmf'], finishOnKey: '#', timeout: keySeconds, action: actionUrl, method: 'POST' })
      .say({ language }, message);
  }
  response.say({ language }, noKeyWords);
  response.hangup();
  return response.toString();
}

/** What the caller hears after pressing keys: the outcome in words, then the call ends. */
export function closingTwiml(outcome: CallOutcome | undefined): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say({ language }, closingWords[outcome ?? 'failed']);
  response.hangup();
  return response.toString();
}

/**
 * A status callback's final CallStatus. `completed` means answered and ended: when # or 0# was
 * pressed the Gather has settled the challenge already (the first outcome wins), so here it means
 * hung up or a voicemail without a key.
 */
export function outcomeOfCallStatus(status: string | undefined): CallOutcome | undefined {
  switch (status) {
    case 'no-answer':
    case 'completed':
      return 'no_answer';
    case 'busy':
      return 'rejected';
    case 'failed':
    case 'canceled':
      return 'failed';
    default:
      return undefined;
  }
}
