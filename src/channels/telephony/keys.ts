import type { CallOutcome } from '../../core/methods/phone/telephony.ts';

/**
 * What the keys of a verification call mean and what the caller then hears, shared by every voice
 * provider (Twilio's TwiML, the SIP call) so that a key means the same thing whoever dials.
 */

/**
 * The keys pressed, as the development phone reads them: nothing before # verifies, 0 then #
 * reports, anything else is the wrong key. Twilio leaves the finishing # out of `Digits`; one
 * that arrives anyway is dropped. No keys at all (not a key press) settles nothing.
 */
export function outcomeOfDigits(digits: string): CallOutcome;
export function outcomeOfDigits(digits: string | undefined): CallOutcome | undefined;
export function outcomeOfDigits(digits: string | undefined): CallOutcome | undefined {
  if (digits === undefined) return undefined;
  const keys = digits.endsWith('#') ? digits.slice(0, -1) : digits;
  if (keys === '') return 'confirmed';
  return keys === '0' ? 'reported' : 'wrong_key';
}

/** What the voice says after the keys: the outcome in words, then the call ends. */
export const closingWords: Record<CallOutcome, string> = {
  confirmed: 'Thank you. You are verified. Goodbye.',
  reported: 'Thank you. The sign-in has been stopped and your IT team can see your report. Goodbye.',
  wrong_key: 'That was not the hash key. Go back to your computer to try again. Goodbye.',
  no_answer: 'Goodbye.',
  rejected: 'Goodbye.',
  failed: 'Goodbye.',
};

/** Said when the message was played twice and no key came. */
export const noKeyWords = 'We did not hear the hash key. Goodbye.';
