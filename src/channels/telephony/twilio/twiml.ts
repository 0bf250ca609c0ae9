import twilio from 'twilio';
import type { CallOutcome } from '../../../core/methods/phone/telephony.ts';

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
  response.say({ language }, 'We did not hear the hash key. Goodbye.');
  response.hangup();
  return response.toString();
}

const closingWords: Record<CallOutcome, string> = {
  confirmed: 'Thank you. You are verified. Goodbye.',
  reported: 'Thank you. The sign-in has been stopped and your IT team can see your report. Goodbye.',
  wrong_key: 'That was not the hash key. Go back to your computer to try again. Goodbye.',
  no_answer: 'Goodbye.',
  rejected: 'Goodbye.',
  failed: 'Goodbye.',
};

/** What the caller hears after pressing keys: the outcome in words, then the call ends. */
export function closingTwiml(outcome: CallOutcome | undefined): string {
  const response = new twilio.twiml.VoiceResponse();
  response.say({ language }, closingWords[outcome ?? 'failed']);
  response.hangup();
  return response.toString();
}

/**
 * The keys of a Gather, as the development phone reads them: nothing before # verifies, 0 then #
 * reports, anything else is the wrong key. Twilio leaves the finishing # out of `Digits`; one
 * that arrives anyway is dropped. No `Digits` at all (not a key press) settles nothing.
 */
export function outcomeOfDigits(digits: string | undefined): CallOutcome | undefined {
  if (digits === undefined) return undefined;
  const keys = digits.endsWith('#') ? digits.slice(0, -1) : digits;
  if (keys === '') return 'confirmed';
  return keys === '0' ? 'reported' : 'wrong_key';
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
