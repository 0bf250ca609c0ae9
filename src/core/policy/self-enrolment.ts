import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { Account } from '../model.ts';
import { endOtherSessions } from '../sign-in-flow/other-sessions.ts';
import type { Store } from '../store.ts';
import { type MfaEligibility, mfaEligibility } from './mfa-eligibility.ts';

export interface SelfEnrolment {
  eligibility(account: Account): Promise<MfaEligibility>;
  /**
   * Turns MFA on for the signed-in user; refused for shared mailboxes and excluded groups. Every
   * session of the account but `keepSession` (the one that asked) ends: none had proved MFA.
   */
  enable(account: Account, clientAddress: string, keepSession?: string): Promise<void>;
}

export function selfEnrolment(deps: { store: Store; clock: Clock; audit: AuditLog }): SelfEnrolment {
  const { store, clock, audit } = deps;
  const eligibility = async (account: Account) =>
    mfaEligibility(account, await store.groups.findMany(account.groups));

  return {
    eligibility,
    async enable(account, clientAddress, keepSession) {
      const outcome = await store.transaction(async (tx) => {
        // Re-read inside the transaction: the operator may have changed the account meanwhile.
        const current = await tx.accounts.findById(account.id);
        if (!current) throw new GatehouseError('account_not_found');
        const decision = mfaEligibility(current, await tx.groups.findMany(current.groups));
        if (!decision.allowed) return decision;
        if (!(await tx.accounts.enableMfa(current.id, clock.now()))) {
          throw new GatehouseError('mfa_already_enabled');
        }
        await audit.record(
          { type: 'mfa.enabled', email: current.email, actor: current.email, clientAddress },
          tx,
        );
        return decision;
      });
      if (outcome.allowed) {
        await endOtherSessions(store, audit, account, keepSession ?? null, 'mfa_enabled');
        return;
      }
      // Recorded outside the transaction, which wrote nothing.
      await audit.record({
        type: 'mfa.enrolment_refused',
        email: account.email,
        actor: account.email,
        clientAddress,
        detail: { ...outcome },
      });
      throw new GatehouseError(
        outcome.reason === 'shared_mailbox' ? 'mfa_not_allowed_shared_mailbox' : 'mfa_not_allowed_group',
      );
    },
  };
}
