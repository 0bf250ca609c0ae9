import type { AuditLog } from '../audit/audit-log.ts';
import { GatehouseError } from '../errors.ts';
import type { Account, Session } from '../model.ts';
import type { Store } from '../store.ts';

/**
 * RFC 8176 values: `swk` a software-held key (the app's signing key), `otp` a one-time code,
 * `tel` a confirmation by telephone call, `sms` a code by text message.
 */
export type SecondFactor = 'swk' | 'otp' | 'tel' | 'sms';

/** Promotes a session that proved a second factor (or finished registration) to `complete`. */
export function mfaCompletion(store: Store, audit: AuditLog) {
  return async (account: Account, session: Session, factor: SecondFactor, clientAddress: string) => {
    if (session.stage === 'complete' && session.factors.includes('mfa')) return;
    if ((await store.methods.countForAccount(account.id)) === 0) throw new GatehouseError('method_not_found');
    const factors = [...new Set([...session.factors, 'mfa', factor])];
    await store.sessions.setStage(session.idHash, 'complete', factors);
    session.stage = 'complete';
    session.factors = factors;
    await audit.record({ type: 'mfa.verified', email: account.email, clientAddress, detail: { factors } });
  };
}
