import type { ErrorCode, GatehouseError } from '../core/errors.ts';

/**
 * The words people see for each error code: the one place they live, out of the core. `{wait}`
 * is filled in from the error's `until` (so a configurable lockout is never written down twice).
 */
const errorMessages: Partial<Record<ErrorCode, string>> = {
  invalid_credentials: 'The email address or password is not correct. Check them and try again.',
  account_locked:
    'This account is temporarily locked because of too many failed sign-in attempts. Try again in {wait}, or contact your IT service desk.',
  client_throttled:
    'There have been too many failed sign-in attempts from your network. Try again in {wait}, or contact your IT service desk.',
  mfa_not_allowed_shared_mailbox:
    'MFA cannot be enabled on this account because it is a shared mailbox: other people also sign in to it.',
  mfa_not_allowed_group: 'MFA self-enrolment is not available to your group.',
  too_many_attempts: 'Too many wrong codes. Wait {wait}, then try again, or contact your IT service desk.',
  invalid_code: 'The code is not correct. Enter the 6-digit code the app shows now.',
  method_not_found: 'You have no authenticator app that shows codes. Contact your IT service desk.',
  app_password_name_invalid: 'Enter a password name of at least 8 characters (at most 64)',
  app_password_name_taken: 'You already have an app password with this name. Choose another name',
  too_many_app_passwords: 'You have 20 app passwords, the most allowed. Revoke one you no longer use first',
  last_method:
    'You cannot remove your only sign-in method while MFA is on. Add another method first, then remove this one.',
  phone_invalid: 'Enter a valid phone number, like 07700 900 982',
  phone_not_mobile: 'Enter a mobile phone number. Landline, premium-rate and other numbers cannot be used',
  phone_country_not_allowed: 'Only mobile numbers from the countries listed can be used',
  phone_blocked:
    'Too many calls or texts have been sent. Wait {wait}, then try again, or choose a different method',
  phone_unavailable:
    'We could not call or text your phone right now. Try again later, or choose a different method',
  certificate_missing:
    'No smartcard was found. Check that your smartcard is in the card reader, then select Try again. If your browser asks you to choose a certificate, choose the one on your smartcard.',
  certificate_invalid:
    'The certificate on your smartcard could not be read. Select Try again. If this happens again, contact your IT service desk.',
  certificate_untrusted:
    'Your smartcard was not issued by an organisation this service trusts. Contact your IT service desk.',
  certificate_expired:
    'The certificate on your smartcard has expired. Contact your Registration Authority or IT service desk to renew it.',
  certificate_not_yet_valid:
    'The certificate on your smartcard is not valid yet. Check the date and time on your computer, then select Try again.',
  certificate_wrong_usage:
    'The certificate you chose cannot be used to sign in. Select Try again and choose the certificate on your smartcard.',
  certificate_revoked:
    'Your smartcard has been cancelled and can no longer be used. Contact your Registration Authority or IT service desk.',
  certificate_revocation_unknown:
    'We could not check that your smartcard is still valid. Try again in a few minutes, or sign in with your email address and password.',
  certificate_not_mapped:
    'Your smartcard is not linked to an account here. Sign in with your email address and password, then add your smartcard in Security info.',
  certificate_already_bound: 'This smartcard is already linked to an account.',
  certificate_ticket_invalid:
    'Your smartcard sign-in took too long, or was started in another browser or tab. Start again from the sign-in page.',
  certificate_binding_not_found: 'That smartcard is no longer linked to your account.',
  password_too_short: 'Enter a new password of at least 8 characters',
  password_too_long: 'Enter a new password of at most 256 characters',
  password_too_common: 'This password is too common and easy to guess. Choose a different one',
  password_matches_email: 'Your password cannot be your email address. Choose a different one',
  current_password_wrong: 'The current password is not correct',
  password_unchanged: 'Choose a password different from your current one',
  second_factor_required:
    'Before you can change your password, add a sign-in method in Security info so that we can check it is you.',
  reset_invalid:
    'This password reset has ended, or was started in another browser. Start again from the sign-in page.',
  reset_throttled:
    'Too many password resets have been started. Try again in {wait}, or contact your IT service desk.',
  reset_step_not_allowed:
    'That step is not possible now. Prove it is you with two different methods first, then choose a new password.',
  // The operator console (issue 13)
  application_not_found:
    'There is no application with that client ID: it may have been removed. Nothing was changed.',
  application_changed:
    'Someone else changed this application at the same moment. Nothing was changed by you: look at it again, then try again if you still need to.',
  application_public: 'This is a public application: it has no client secret to rotate.',
  console_read_only: 'Your console role is auditor: you can look, but not change anything. Ask an operator.',
  console_reason_required:
    'Enter the reason for this action (at most 500 characters): it is kept in the audit log',
  search_too_long:
    'The search is too long. Enter the start of an email address or name (at most 254 characters)',
  temporary_pass_lifetime: 'Choose a lifetime from 10 minutes to 8 hours',
  review_date_past: 'Enter a review date in the future (at most 2 years ahead), like 31 3 2027',
  exemption_owner_required: 'Enter who owns this exemption (at most 200 characters)',
  temporary_pass_invalid:
    'The Temporary Access Pass is not correct, has been used or has expired. Check it, or ask your IT service desk for a new one.',
  console_filter_invalid:
    'Check the filter: an email address of at most 254 characters, an event type from the list, and dates like 2026-06-01',
  time_range_invalid: 'The end of the time range must be after its start (a report covers at most 92 days)',
  passkey_challenge_used:
    'This passkey request has already been used. Select the button again to try once more.',
  passkey_challenge_other_session:
    'This passkey request was started in another window or browser. Select the button again in this window.',
  passkey_challenge_invalid: 'This passkey request has expired. Select the button again to try once more.',
  passkey_wrong_site:
    'This passkey answer was made for a different website. Make sure the address bar shows this portal, then try again.',
  passkey_not_recognised:
    'This passkey is not registered, or has been removed. Use another passkey, or choose a different method.',
  passkey_other_account: 'This passkey belongs to a different account. Use your own passkey.',
  passkey_cloned:
    'This passkey could not be trusted: it may have been copied. It was not accepted. Contact your IT service desk.',
  passkey_rejected:
    'The passkey was not accepted. Make sure you unlock it with your PIN, fingerprint or face, then try again.',
  passkey_model_not_allowed:
    'Your organisation does not allow this kind of passkey or security key. Contact your IT service desk for one that is allowed.',
  passkey_already_registered: 'This passkey is already registered.',
  passkey_requests_throttled:
    'Too many passkey requests have come from your network. Try again in {wait}, or choose a different method.',
  passkey_attempts_throttled: 'Too many passkey attempts. Try again in {wait}, or choose a different method.',
  passkey_not_registered: 'You have no passkey for this account. Choose a different method.',
  phishing_resistant_required:
    'Your organisation requires you to sign in with a passkey or a smartcard. Other methods cannot be used for your account.',
};

/**
 * The database is away for a moment (a restart, a failover, a full disk): said plainly, with
 * nothing about databases, because the person can do only one thing, try again shortly.
 */
export const databaseUnavailableWords = {
  title: 'Sorry, the service is not available at the moment',
  paragraphs: [
    'Nothing you entered has been lost. Wait a moment, then try again.',
    'If this keeps happening for more than a few minutes, contact your IT service desk.',
  ],
  /** For the authenticator app and the waiting page's script. */
  api: 'The service is not available at the moment. Try again in a moment.',
} as const;

/** Where the same code needs other words: the page it is shown on says more than the code. */
const inPlace = {
  /** Registering a code app: there is no service desk step yet. */
  registration: { too_many_attempts: 'Too many wrong codes. Wait {wait}, then try again.' },
  /** The code from a text message. */
  text: {
    too_many_attempts: 'Too many wrong codes. Wait {wait}, then try again',
    invalid_code:
      'The code is not correct, or has expired. Enter the 6-digit code from the latest text message',
  },
  /** A number registered earlier that the operator's rules no longer allow. */
  dial: {
    phone_country_not_allowed:
      'Calls and texts to this number are no longer allowed. Choose a different method, or ask your IT team for help',
    phone_not_mobile:
      'Calls and texts to this number are no longer allowed. Choose a different method, or ask your IT team for help',
    phone_invalid:
      'Calls and texts to this number are no longer allowed. Choose a different method, or ask your IT team for help',
  },
  smartcard: {},
} satisfies Record<string, Partial<Record<ErrorCode, string>>>;

export type MessagePlace = keyof typeof inPlace;

/** How long until `until`, in words: "1 minute", "15 minutes", "2 hours". */
export function waitUntil(until: unknown, now: Date): string {
  const end = until instanceof Date ? until : new Date(String(until));
  if (Number.isNaN(end.getTime())) return 'a few minutes';
  const minutes = Math.max(1, Math.ceil((end.getTime() - now.getTime()) / 60_000));
  if (minutes < 90) return minutes === 1 ? '1 minute' : `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  return `${hours} hours`;
}

/** Whether there are words for this code (in this place). */
export function hasMessage(code: ErrorCode, place?: MessagePlace): boolean {
  return (place && code in inPlace[place]) || code in errorMessages;
}

/**
 * The words for an error, with its wait filled in. A code that may not be shown (see the core's
 * catalogue), or has no words, gets `fallback`: by default the sign-in failure, which reveals nothing.
 */
export function messageFor(
  error: Pick<GatehouseError, 'code' | 'details' | 'shown'>,
  now: Date,
  place?: MessagePlace,
  fallback: string = errorMessages.invalid_credentials as string,
): string {
  const placed = place ? (inPlace[place] as Partial<Record<ErrorCode, string>>)[error.code] : undefined;
  const words = error.shown ? (placed ?? errorMessages[error.code]) : undefined;
  return (words ?? fallback).replace('{wait}', waitUntil(error.details.until, now));
}

const countryNames = new Intl.DisplayNames(['en-GB'], { type: 'region' });
/** Country names said with "the": the Isle of Man, the United States. */
const WITH_THE = new Set([
  'AE',
  'BS',
  'CD',
  'CF',
  'CZ',
  'DO',
  'FK',
  'GB',
  'GM',
  'IM',
  'KY',
  'MH',
  'MV',
  'NL',
  'PH',
  'SB',
  'SC',
  'TC',
  'US',
  'VA',
  'VG',
  'VI',
]);
/** The Crown Dependencies: their mobiles start +44 7 like the United Kingdom's, but they are not in it. */
const CROWN_DEPENDENCIES = new Set(['GG', 'JE', 'IM']);

function countryName(code: string): string {
  const name = countryNames.of(code) ?? code;
  return WITH_THE.has(code) ? `the ${name}` : name;
}

/**
 * A number refused for its country: which country it belongs to, and what to do. A Jersey,
 * Guernsey or Isle of Man mobile typed with the United Kingdom chosen is told why it is not a UK
 * number (they share +44), and that the IT team can allow its island.
 */
export function phoneCountryMessage(details: Record<string, unknown>): string {
  const base = 'Only mobile numbers from the countries listed can be used';
  const country =
    typeof details.country === 'string' && /^[A-Z]{2}$/.test(details.country) ? details.country : undefined;
  if (!country) return `${base}. Check the country code and the number`;
  const name = countryName(country);
  if (CROWN_DEPENDENCIES.has(country)) {
    return `This is a mobile number from ${name}. ${base}: ${name} shares the +44 code with the United Kingdom but is not part of it. Enter a UK mobile number, or ask your IT team to allow numbers from ${name}`;
  }
  return `This number is from ${name}. ${base}. Enter a mobile number from one of them, or choose a different method`;
}
