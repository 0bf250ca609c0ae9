import type { Account, AccountExemption, ExemptionTerms, Group } from '../model.ts';

export type MfaEligibility =
  | { allowed: true }
  | { allowed: false; reason: 'shared_mailbox' }
  | { allowed: false; reason: 'excluded_group'; group: string; message: string | null }
  | { allowed: false; reason: 'account_exempt'; owner: string; why: string };

/** An exemption counts until its review date; one with no date recorded (before the register) counts. */
export const stillCounts = (terms: ExemptionTerms | null | undefined, now: Date | undefined) =>
  !terms || now === undefined || terms.reviewAt.getTime() > now.getTime();

/**
 * Who may enable MFA for themselves. The rules are data (the account's flags and the groups an
 * operator excluded), decided here in one place.
 */
export function mfaEligibility(
  account: Account,
  groups: readonly Group[],
  /** The exemption register's facts; without them every exclusion counts. */
  register?: { now: Date; exemption?: AccountExemption | undefined },
): MfaEligibility {
  if (account.sharedMailbox) return { allowed: false, reason: 'shared_mailbox' };
  const now = register?.now;
  const exemption = register?.exemption;
  if (exemption && stillCounts(exemption, now))
    return { allowed: false, reason: 'account_exempt', owner: exemption.owner, why: exemption.reason };
  // Past its review date a group's exclusion stops counting: its members may (and are asked to) enrol.
  const excluded = groups.find(
    (g) => g.mfaExcluded && account.groups.includes(g.name) && stillCounts(g.exemption, now),
  );
  if (excluded) {
    return {
      allowed: false,
      reason: 'excluded_group',
      group: excluded.name,
      message: excluded.exclusionMessage,
    };
  }
  return { allowed: true };
}
