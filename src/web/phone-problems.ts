import type { ErrorCode } from '../core/errors.ts';

/** Why a number could not be used, in words for the form. */
export const phoneNumberMessages: Partial<Record<ErrorCode, string>> = {
  phone_invalid: 'Enter a valid phone number, like 07700 900 982',
  phone_not_mobile: 'Enter a mobile phone number. Landline, premium-rate and other numbers cannot be used',
  phone_country_not_allowed: 'Only mobile numbers from the countries listed can be used',
  phone_blocked:
    'Too many calls or texts have been sent. Wait an hour, then try again, or choose a different method',
  phone_unavailable:
    'We could not call or text your phone right now. Try again later, or choose a different method',
};

/** What the page says when a call did not verify the number. */
export function callProblem(status: string): { heading: string; text: string } {
  switch (status) {
    case 'wrong_key':
      return {
        heading: 'The wrong key was pressed',
        text: 'To verify, answer the call and press the # key. Select Try again for a new call.',
      };
    case 'rejected':
      return { heading: 'The call was declined', text: 'Select Try again to get a new call, and answer it.' };
    case 'reported':
      return {
        heading: 'You told us this was not you',
        text: 'The sign-in was stopped and your IT team can see the report. Calls to your phone are paused for a while.',
      };
    case 'failed':
      return {
        heading: 'We could not call your phone',
        text: 'Check the number, then select Try again, or choose a different method.',
      };
    case 'no_answer':
      return { heading: 'The call was not answered', text: 'Keep your phone nearby, then select Try again.' };
    default:
      return { heading: 'The call has expired', text: 'Select Try again to get a new call.' };
  }
}

/** Why a registered number cannot be called or texted now (the operator's rules changed). */
export function dialProblem(code: ErrorCode): string {
  if (code === 'phone_country_not_allowed' || code === 'phone_not_mobile' || code === 'phone_invalid') {
    return 'Calls and texts to this number are no longer allowed. Choose a different method, or ask your IT team for help';
  }
  return phoneNumberMessages[code] ?? (phoneNumberMessages.phone_unavailable as string);
}
