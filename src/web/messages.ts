import type { ErrorCode } from '../core/errors.ts';

/** The words people see for each error code. Kept here, out of the core, keyed by code. */
export const errorMessages = {
  invalid_credentials: 'The email address or password is not correct. Check them and try again.',
  account_locked:
    'This account is temporarily locked because of too many failed sign-in attempts. Try again in {minutes}, or contact your IT service desk.',
  client_throttled:
    'There have been too many failed sign-in attempts from your network. Try again in {minutes}, or contact your IT service desk.',
  mfa_not_allowed_shared_mailbox:
    'MFA cannot be enabled on this account because it is a shared mailbox: other people also sign in to it.',
  mfa_not_allowed_group: 'MFA self-enrolment is not available to your group.',
} satisfies Partial<Record<ErrorCode, string>>;

export function minutesUntil(until: unknown, now: Date): string {
  const end = until instanceof Date ? until : new Date(String(until));
  const minutes = Math.max(1, Math.ceil((end.getTime() - now.getTime()) / 60_000));
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/** The words for a code, falling back to the generic sign-in failure (which reveals nothing). */
export function messageFor(code: ErrorCode): string {
  return (errorMessages as Partial<Record<ErrorCode, string>>)[code] ?? errorMessages.invalid_credentials;
}
