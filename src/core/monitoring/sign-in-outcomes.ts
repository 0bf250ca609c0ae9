import type { AuditEventInput } from '../model.ts';

/** How a person proved who they are, as operators count it. */
export type SignInMethod =
  | 'password'
  | 'push'
  | 'code'
  | 'phone_call'
  | 'text'
  | 'smartcard'
  | 'passkey'
  | 'app_password'
  | 'legacy_password'
  | 'password_and_push';

export type SignInOutcome = 'success' | 'failure' | 'locked' | 'denied' | 'reported';

export interface SignInStep {
  method: SignInMethod;
  outcome: SignInOutcome;
}

/** The second factor a `mfa.verified` event's challenge (`push:<id>`, `totp:<id>`...) names. */
function verifiedMethod(detail: Record<string, unknown> | undefined): SignInMethod | undefined {
  const challenge = typeof detail?.challenge === 'string' ? detail.challenge : '';
  const kind = challenge.split(':')[0];
  if (kind === 'push') return 'push';
  if (kind === 'totp') return 'code';
  if (kind === 'passkey') return 'passkey';
  if (kind === 'phone') {
    const factors = Array.isArray(detail?.factors) ? detail.factors : [];
    return factors.includes('sms') ? 'text' : 'phone_call';
  }
  return undefined;
}

/** A legacy client (LDAP, RADIUS) signed in before MFA with the password, or with password and push. */
function legacyMethod(detail: Record<string, unknown> | undefined): SignInMethod {
  return detail?.credential === 'password_and_push' ? 'password_and_push' : 'legacy_password';
}

/**
 * The sign-in step an audit event records, if it is one: the audit log is where every step is
 * already written, so counting from it cannot drift from what the log says happened.
 */
export function signInStepOf(event: AuditEventInput): SignInStep | undefined {
  const detail = event.detail;
  switch (event.type) {
    case 'signin.succeeded':
      return { method: 'password', outcome: 'success' };
    case 'signin.failed':
      // A legacy client's account password (before MFA, or a VPN's password-and-push).
      if (typeof detail?.protocol === 'string') return { method: 'legacy_password', outcome: 'failure' };
      return { method: 'password', outcome: detail?.reason === 'locked' ? 'locked' : 'failure' };
    case 'signin.locked':
      return { method: 'password', outcome: 'locked' };
    case 'mfa.verified': {
      const method = verifiedMethod(detail);
      return method ? { method, outcome: 'success' } : undefined;
    }
    case 'push.denied':
    case 'push.wrong_number':
      return { method: 'push', outcome: event.type === 'push.denied' ? 'denied' : 'failure' };
    case 'push.reported':
      return { method: 'push', outcome: 'reported' };
    case 'totp.rejected':
      return { method: 'code', outcome: 'failure' };
    case 'phone.failed':
      // A wrong code can only be a texted one; a call fails by its outcome (not answered, no #).
      return {
        method: detail?.channel === 'sms' || detail?.reason === 'wrong_code' ? 'text' : 'phone_call',
        outcome: 'failure',
      };
    case 'phone.reported':
      return { method: 'phone_call', outcome: 'reported' };
    case 'smartcard.signed_in':
      return { method: 'smartcard', outcome: 'success' };
    case 'smartcard.refused':
      return { method: 'smartcard', outcome: 'failure' };
    case 'passkey.refused':
      // Refused answers at sign-in (a passkey being added is not a sign-in).
      return detail?.purpose === 'registration' ? undefined : { method: 'passkey', outcome: 'failure' };
    case 'legacy.signed_in':
      return { method: legacyMethod(detail), outcome: 'success' };
    case 'app_password.used':
      return { method: 'app_password', outcome: 'success' };
    case 'app_password.rejected':
      return { method: 'app_password', outcome: 'failure' };
    case 'legacy.password_refused':
      // The account password from a legacy client once MFA is on: refused, an app password is needed.
      return { method: 'legacy_password', outcome: 'denied' };
    default:
      return undefined;
  }
}

/** A call or text the Phone method placed, could not place (the provider failed) or refused (limits). */
export function telephonyOutcomeOf(
  event: AuditEventInput,
): { channel: 'call' | 'text' | 'any'; outcome: 'sent' | 'failed' | 'refused' } | undefined {
  const channel = event.detail?.channel;
  const named = channel === 'sms' ? 'text' : channel === 'call' ? 'call' : 'any';
  if (event.type === 'phone.call_placed') return { channel: 'call', outcome: 'sent' };
  if (event.type === 'phone.text_sent') return { channel: 'text', outcome: 'sent' };
  if (event.type === 'phone.failed' && event.detail?.reason === 'provider')
    return { channel: named, outcome: 'failed' };
  // Refusals (a limit reached, a country not allowed) happen before a channel is chosen.
  if (event.type === 'phone.refused') return { channel: named, outcome: 'refused' };
  return undefined;
}
