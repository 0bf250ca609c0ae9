import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { PasswordHasher } from '../passwords/hasher.ts';
import { normalisedPassword } from '../passwords/normalise.ts';
import { checkNewPassword } from '../passwords/password-policy.ts';
import type { ActiveSession } from '../sessions/session-service.ts';
import type { SignOutEverywhere } from '../sessions/sign-out-everywhere.ts';
import type { Store } from '../store.ts';

export interface ChangePasswordDeps {
  store: Store;
  clock: Clock;
  hasher: PasswordHasher;
  audit: AuditLog;
  signOutEverywhere: SignOutEverywhere;
  /** How recently the session must have proved a second factor. */
  freshMinutes: number;
}

/**
 * Changing the password needs the current one and a second factor proved recently by this
 * session: a password alone (stolen, or a session left open) cannot take the account over.
 */
export function changePassword(deps: ChangePasswordDeps) {
  const { store, clock, hasher, audit } = deps;

  async function mayChange(active: ActiveSession, clientAddress: string): Promise<void> {
    const { session, account } = active;
    const methods = await store.methods.countForAccount(account.id);
    const fresh =
      session.mfaProvedAt != null &&
      clock.now().getTime() - session.mfaProvedAt.getTime() <= deps.freshMinutes * 60_000;
    if (methods > 0 && session.factors.includes('mfa') && fresh) return;
    await audit.record({
      type: 'account.password_change_refused',
      email: account.email,
      clientAddress,
      detail: { reason: methods === 0 ? 'no_second_factor' : 'second_factor_not_fresh' },
    });
    throw new GatehouseError(methods === 0 ? 'second_factor_required' : 'reverify_required');
  }

  return {
    mayChange,
    async change(
      active: ActiveSession,
      input: { current: string; next: string; signOutOthers: boolean; clientAddress: string },
    ) {
      const { account, session } = active;
      await mayChange(active, input.clientAddress);
      if (!(await hasher.verify(account.passwordHash, input.current))) {
        await audit.record({
          type: 'account.password_change_refused',
          email: account.email,
          clientAddress: input.clientAddress,
          detail: { reason: 'wrong_current_password' },
        });
        throw new GatehouseError('current_password_wrong');
      }
      const next = normalisedPassword(input.next);
      checkNewPassword(next, account.email);
      if (await hasher.verify(account.passwordHash, next)) throw new GatehouseError('password_unchanged');
      await store.accounts.updatePasswordHash(account.id, await hasher.hash(next));
      await audit.record({
        type: 'account.password_changed',
        email: account.email,
        clientAddress: input.clientAddress,
        detail: { signedOutOthers: input.signOutOthers },
      });
      if (input.signOutOthers)
        await deps.signOutEverywhere(account, {
          reason: 'password_changed',
          keep: session.idHash,
          clientAddress: input.clientAddress,
        });
    },
  };
}
