import type { Random } from '../../clock.ts';
import { GatehouseError } from '../../errors.ts';
import type { Account } from '../../model.ts';
import { upgradePasswordHash } from '../../passwords/upgrade.ts';
import { failureReason } from '../../sessions/sign-in.ts';
import type { AppPasswordContext } from './app-passwords.ts';
import { normaliseKeyPassword } from './key-password.ts';
import { type LegacyLimitRules, reserveLegacyAttempt } from './legacy-limits.ts';

export interface LegacySignInContext extends AppPasswordContext {
  limits: LegacyLimitRules;
  random: Random;
}

export interface LegacySignIn {
  /** Canonical email address or user name the client sent. */
  email: string;
  password: string;
  /** 'ldap' or 'radius': recorded with the use. */
  protocol: string;
  clientAddress: string;
}

/**
 * A legacy application's sign-in (LDAP bind, RADIUS Access-Request). Once MFA is enabled only app
 * passwords work here; the account password is refused (and the refusal audited, so the service
 * desk can tell the user why their mail client stopped working).
 *
 * Every sign-in that passes the limits verifies exactly one argon2id hash, whoever it names and
 * however many app passwords they have, so that its time tells nothing about the account; or
 * none, for a repeat of a bind that succeeded in the last few seconds when the bind cache is on
 * (which tells only what the client itself just did).
 */
export function legacySignIn(ctx: LegacySignInContext) {
  const decoy = ctx.hasher.hash(ctx.random.bytes(16).toString('hex'));
  return async (input: LegacySignIn): Promise<Account> => {
    const limits = await reserveLegacyAttempt(ctx, input);
    const account = enabledOnly(await ctx.store.accounts.findByEmail(input.email));
    const outcome = await checkOneCredential(ctx, account, input.password, decoy);
    if (account && (outcome.kind === 'app_password' || outcome.kind === 'password')) {
      await limits.succeeded();
      if (outcome.kind === 'app_password') {
        await ctx.store.appPasswords.recordUse(
          outcome.id,
          ctx.clock.now(),
          input.protocol,
          input.clientAddress,
        );
      }
      await ctx.audit.record({
        type: outcome.kind === 'app_password' ? 'app_password.used' : 'legacy.signed_in',
        email: account.email,
        clientAddress: input.clientAddress,
        detail: { protocol: input.protocol, credential: outcome.kind, name: outcome.name },
      });
      return account;
    }
    await ctx.audit.record({
      type: outcome.kind === 'password_refused' ? 'legacy.password_refused' : 'app_password.rejected',
      email: input.email,
      clientAddress: input.clientAddress,
      detail: { protocol: input.protocol },
    });
    return limits.failed();
  };
}

/** A disabled account signs in nowhere: here it is checked as an unknown one (a decoy hash). */
const enabledOnly = (account: Account | undefined) => (account?.disabledAt ? undefined : account);

type Outcome =
  | { kind: 'app_password'; id: string; name: string }
  | { kind: 'password'; name: null }
  /** The account password, right, but MFA is on: refused, and audited as such. */
  | { kind: 'password_refused' }
  | { kind: 'refused' };

/**
 * Verifies one hash and no more: the app password whose fingerprint matches what was typed;
 * otherwise the account password (the credential before MFA; after MFA, to audit a refusal);
 * otherwise, for an address that names no account, a decoy.
 */
async function checkOneCredential(
  ctx: AppPasswordContext,
  account: Account | undefined,
  typed: string,
  decoy: Promise<string>,
): Promise<Outcome> {
  const key = normaliseKeyPassword(typed);
  // The same lookup for every address, known or not; a fingerprint of another account's app
  // password is not a candidate.
  const found = await ctx.store.appPasswords.findByFingerprint(await ctx.fingerprint(key));
  const candidate = account && found?.accountId === account.id ? found : undefined;
  if (candidate) {
    const success = { kind: 'app_password', id: candidate.id, name: candidate.name } as const;
    // Found again by its fingerprint just now, so not revoked: a recent bind spares the hash.
    if (ctx.binds.has(candidate.id, key)) return success;
    if (!(await ctx.hasher.verify(candidate.passwordHash, key))) return { kind: 'refused' };
    ctx.binds.remember(candidate.id, key);
    return success;
  }
  if (!account) {
    await ctx.hasher.verify(await decoy, typed);
    return { kind: 'refused' };
  }
  if (!(await ctx.hasher.verify(account.passwordHash, typed))) return { kind: 'refused' };
  await upgradePasswordHash(ctx, account, typed);
  // Before MFA is enabled, legacy clients keep working with the account password.
  return account.mfaEnabled ? { kind: 'password_refused' } : { kind: 'password', name: null };
}

/**
 * The NPS-extension way for VPNs: the account password, then the user's approval in the app.
 * The password is throttled as any legacy sign-in (reserved before it is verified); the approval
 * is an `approval` push request. An account whose group must use a passkey or smartcard is
 * refused without a push (a VPN cannot ask for either).
 */
export function legacyPasswordAndPush(
  ctx: LegacySignInContext & {
    requestApproval(account: Account, clientAddress: string, application: string): Promise<string>;
    /** Accounts that must use a passkey or smartcard: a push cannot stand for either. */
    phishingResistantRequired(account: Account): boolean;
  },
) {
  const decoy = ctx.hasher.hash(ctx.random.bytes(16).toString('hex'));
  return async (input: LegacySignIn & { application: string }): Promise<Account> => {
    const limits = await reserveLegacyAttempt(ctx, input);
    const account = enabledOnly(await ctx.store.accounts.findByEmail(input.email));
    const valid = await ctx.hasher.verify(account?.passwordHash ?? (await decoy), input.password);
    if (!account || !valid) {
      await ctx.audit.record({
        type: 'signin.failed',
        email: input.email,
        clientAddress: input.clientAddress,
        detail: { protocol: input.protocol, reason: failureReason(account) },
      });
      return limits.failed();
    }
    await upgradePasswordHash(ctx, account, input.password);
    await limits.succeeded();
    if (ctx.phishingResistantRequired(account)) {
      // No push is sent: the phone would be asked to approve what it may not approve.
      await ctx.audit.record({
        type: 'sso.refused',
        email: account.email,
        clientAddress: input.clientAddress,
        detail: {
          protocol: input.protocol,
          credential: 'password_and_push',
          reason: 'phishing_resistant_required',
        },
      });
      throw new GatehouseError('invalid_credentials', undefined, { reason: 'phishing_resistant_required' });
    }
    const status = await ctx.requestApproval(account, input.clientAddress, input.application);
    await ctx.audit.record({
      type: status === 'approved' ? 'legacy.signed_in' : 'sso.refused',
      email: account.email,
      clientAddress: input.clientAddress,
      detail: { protocol: input.protocol, credential: 'password_and_push', approval: status },
    });
    if (status !== 'approved')
      throw new GatehouseError('invalid_credentials', undefined, { approval: status });
    return account;
  };
}
