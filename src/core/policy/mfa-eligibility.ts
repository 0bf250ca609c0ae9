import type { Account, Group } from '../model.ts';

export type MfaEligibility =
  | { allowed: true }
  | { allowed: false; reason: 'shared_mailbox' }
  | { allowed: false; reason: 'excluded_group'; group: string; message: string | null };

/**
 * Who may enable MFA for themselves. The rules are data (the account's flags and the groups an
 * operator excluded), decided here in one place.
 */
export function mfaEligibility(account: Account, groups: readonly Group[]): MfaEligibility {
  if (account.sharedMailbox) return { allowed: false, reason: 'shared_mailbox' };
  const excluded = groups.find((g) => g.mfaExcluded && account.groups.includes(g.name));
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
