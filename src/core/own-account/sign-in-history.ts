import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import { PHISHING_RESISTANT } from '../methods/passkey/factors.ts';
import type { Account, AuditEvent, AuditEventType } from '../model.ts';
import type { ActiveSession } from '../sessions/session-service.ts';
import type { SignOutEverywhere } from '../sessions/sign-out-everywhere.ts';
import type { Store } from '../store.ts';

export const HISTORY_DAYS = 30;

export type SignInResult = 'success' | 'wrong_password' | 'denied' | 'reported';
export type SignInMethod =
  | 'password'
  | 'authenticator_app'
  | 'verification_code'
  | 'phone_call'
  | 'text_message'
  | 'smartcard'
  | 'passkey'
  | 'single_sign_on';

/** One line of My sign-ins, read from the audit log (which already records every attempt). */
export interface SignInEntry {
  id: number;
  at: Date;
  /** The application's name, or null for the portal itself. */
  application: string | null;
  method: SignInMethod;
  clientAddress: string | null;
  result: SignInResult;
  /** The user already said this was not them. */
  reported: boolean;
}

const TYPES: AuditEventType[] = [
  'signin.succeeded',
  'signin.failed',
  'signin.locked',
  'mfa.verified',
  'push.denied',
  'push.reported',
  'push.wrong_number',
  'phone.reported',
  'smartcard.signed_in',
  'passkey.refused',
  'sso.signed_in',
  'signin.reported',
];

const factorMethod: Record<string, SignInMethod> = {
  swk: 'authenticator_app',
  otp: 'verification_code',
  tel: 'phone_call',
  sms: 'text_message',
};

/** What one audited event says about a sign-in; undefined for an event that is not one. */
function entryOf(event: AuditEvent): Omit<SignInEntry, 'reported'> | undefined {
  const base = { id: event.id, at: event.at, clientAddress: event.clientAddress, application: null };
  const detail = event.detail;
  switch (event.type) {
    case 'signin.succeeded':
      return { ...base, method: 'password', result: 'success' };
    case 'signin.failed':
      // An unknown address is never this account's; a locked one was refused unchecked.
      return {
        ...base,
        method: 'password',
        result: detail.reason === 'locked' ? 'denied' : 'wrong_password',
      };
    case 'signin.locked':
      return { ...base, method: 'password', result: 'denied' };
    case 'mfa.verified': {
      if (detail.purpose !== 'sign_in') return undefined;
      const factors = Array.isArray(detail.factors) ? (detail.factors as string[]) : [];
      // A passkey proves swk or hwk too: its phishing-resistant mark tells it from the app.
      const method = factors.includes(PHISHING_RESISTANT)
        ? 'passkey'
        : (factors.map((f) => factorMethod[f]).find(Boolean) ?? 'authenticator_app');
      return { ...base, method, result: 'success' };
    }
    case 'push.denied':
    case 'push.wrong_number':
      return {
        ...base,
        application: text(detail.application),
        method: 'authenticator_app',
        result: 'denied',
      };
    case 'push.reported':
      return {
        ...base,
        application: text(detail.application),
        method: 'authenticator_app',
        result: 'reported',
      };
    case 'phone.reported':
      return { ...base, method: 'phone_call', result: 'reported' };
    case 'smartcard.signed_in':
      return { ...base, method: 'smartcard', result: 'success' };
    case 'passkey.refused':
      return detail.purpose === 'registration' ? undefined : { ...base, method: 'passkey', result: 'denied' };
    case 'sso.signed_in':
      return {
        ...base,
        application: text(detail.name) ?? text(detail.application),
        method: 'single_sign_on',
        result: 'success',
      };
    default:
      return undefined;
  }
}

const text = (value: unknown) => (typeof value === 'string' ? value : null);

export function signInHistory(deps: {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  signOutEverywhere: SignOutEverywhere;
}) {
  const { store, clock, audit } = deps;
  const since = () => new Date(clock.now().getTime() - HISTORY_DAYS * 24 * 3_600_000);

  async function list(account: Pick<Account, 'email'>, limit = 200): Promise<SignInEntry[]> {
    const events = await store.audit.list({ email: account.email, limit, since: since(), types: TYPES });
    const reported = new Set(
      events.filter((e) => e.type === 'signin.reported').map((e) => Number(e.detail.event)),
    );
    return events.flatMap((event) => {
      const entry = entryOf(event);
      return entry ? [{ ...entry, reported: reported.has(entry.id) }] : [];
    });
  }

  return {
    list,
    /**
     * `This wasn't me`: the sign-in is reported (audited, and a notice sent), and every other
     * session of the account ends, single sign-on and refresh tokens too. The session reporting
     * stays, so that the user can change the password at once.
     */
    async report(active: ActiveSession, eventId: number, clientAddress: string) {
      const event = await store.audit.find(eventId);
      const entry =
        event && event.email === active.account.email && event.at >= since() ? entryOf(event) : undefined;
      if (!entry || entry.result === 'reported') throw new GatehouseError('invalid_input');
      await audit.record({
        type: 'signin.reported',
        email: active.account.email,
        clientAddress,
        detail: { event: eventId, method: entry.method, address: entry.clientAddress },
      });
      await deps.signOutEverywhere(active.account, {
        reason: 'signin_reported',
        keep: active.session.idHash,
        clientAddress,
      });
    },
  };
}
