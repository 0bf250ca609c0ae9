import type { AuditLog } from '../audit/audit-log.ts';
import type { Account } from '../model.ts';
import type { Store } from '../store.ts';

/** Why every other session of an account was ended: how it signs in has changed. */
export type FactorChangeReason =
  | 'mfa_enabled'
  | 'method_registered'
  | 'method_removed'
  | 'default_changed'
  | 'app_password_created'
  | 'smartcard_bound'
  | 'smartcard_removed'
  | 'mfa_reset';

/**
 * Ends every session of the account but `keep` (the one that made the change; none for an
 * operator's reset). Single sign-on follows, since every authorization checks the portal session.
 */
export async function endOtherSessions(
  store: Store,
  audit: AuditLog,
  account: Pick<Account, 'id' | 'email'>,
  keep: string | null,
  reason: FactorChangeReason,
): Promise<number> {
  const ended = await store.sessions.removeAllForAccount(account.id, keep ?? undefined);
  if (ended > 0)
    await audit.record({ type: 'session.ended', email: account.email, detail: { reason, sessions: ended } });
  return ended;
}
