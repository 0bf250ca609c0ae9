import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { Account } from '../model.ts';
import { endOtherSessions } from '../sign-in-flow/other-sessions.ts';
import type { Store } from '../store.ts';
import { type MfaEligibility, mfaEligibility, stillCounts } from './mfa-eligibility.ts';

export interface SelfEnrolment {
  eligibility(account: Account): Promise<MfaEligibility>;
  /**
   * An exemption of the account (its own, or a group's) whose review date has passed, while MFA is
   * still off: the user is asked to enrol at sign-in. Undefined when none.
   */
  lapsedExemption(account: Account): Promise<{ reviewAt: Date } | undefined>;
  /**
   * Turns MFA on for the signed-in user; refused for shared mailboxes and excluded groups. Every
   * session of the account but `keepSession` (the one that asked) ends: none had proved MFA.
   */
  enable(account: Account, clientAddress: string, keepSession?: string): Promise<void>;
}

export function selfEnrolment(deps: { store: Store; clock: Clock; audit: AuditLog }): SelfEnrolment {
  const { store, clock, audit } = deps;
  const eligibility = async (account: Account, within: Store = store) =>
    mfaEligibility(account, await within.groups.findMany(account.groups), {
      now: clock.now(),
      exemption: await within.exemptions.find(account.id),
    });

  return {
    eligibility,
    async lapsedExemption(account) {
      if (account.mfaEnabled || account.sharedMailbox) return undefined;
      const now = clock.now();
      const own = await store.exemptions.find(account.id);
      const terms = [
        own,
        ...(await store.groups.findMany(account.groups)).filter((g) => g.mfaExcluded).map((g) => g.exemption),
      ];
      const lapsed = terms.find((t) => t && !stillCounts(t, now));
      if (!lapsed || (await eligibility(account)).allowed === false) return undefined;
      return { reviewAt: lapsed.reviewAt };
    },
    async enable(account, clientAddress, keepSession) {
      const outcome = await store.transaction(async (tx) => {
        // Re-read inside the transaction: the operator may have changed the account meanwhile.
        const current = await tx.accounts.findById(account.id);
        if (!current) throw new GatehouseError('account_not_found');
        const decision = await eligibility(current, tx);
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
