import type { Random } from '../../clock.ts';
import { GatehouseError } from '../../errors.ts';
import type { Account } from '../../model.ts';
import type { Throttle } from '../../throttle/throttle.ts';
import type { AppPasswordContext } from './app-passwords.ts';
import { normaliseKeyPassword } from './key-password.ts';

export interface LegacySignInContext extends AppPasswordContext {
  accountThrottle: Throttle;
  clientThrottle: Throttle;
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
 */
export function legacySignIn(ctx: LegacySignInContext) {
  const decoy = ctx.hasher.hash(ctx.random.bytes(16).toString('hex'));
  return async (input: LegacySignIn): Promise<Account> => {
    const limits = await legacyLimits(ctx, input);
    const account = await ctx.store.accounts.findByEmail(input.email);
    const matched = account ? await matchingCredential(ctx, account, input.password) : undefined;
    if (!account) await ctx.hasher.verify(await decoy, input.password);
    if (account && matched) {
      await limits.succeeded();
      if (matched.kind === 'app_password') {
        await ctx.store.appPasswords.recordUse(
          matched.id,
          ctx.clock.now(),
          input.protocol,
          input.clientAddress,
        );
      }
      await ctx.audit.record({
        type: matched.kind === 'app_password' ? 'app_password.used' : 'legacy.signed_in',
        email: account.email,
        clientAddress: input.clientAddress,
        detail: { protocol: input.protocol, credential: matched.kind, name: matched.name },
      });
      return account;
    }
    const refusedPassword =
      account?.mfaEnabled && (await ctx.hasher.verify(account.passwordHash, input.password));
    await ctx.audit.record({
      type: refusedPassword ? 'legacy.password_refused' : 'app_password.rejected',
      email: input.email,
      clientAddress: input.clientAddress,
      detail: { protocol: input.protocol },
    });
    return limits.failed();
  };
}

/**
 * Failures are counted per address typed and per client; either lock refuses every legacy
 * sign-in for a while, whatever the credential.
 */
async function legacyLimits(ctx: LegacySignInContext, input: LegacySignIn) {
  const accountKey = `legacy:email:${input.email}`;
  const clientKey = `legacy:client:${input.clientAddress}`;
  if (
    (await ctx.clientThrottle.lockedUntil(clientKey)) ||
    (await ctx.accountThrottle.lockedUntil(accountKey))
  ) {
    throw new GatehouseError('account_locked');
  }
  return {
    succeeded: () => ctx.accountThrottle.reset(accountKey),
    async failed(): Promise<never> {
      await ctx.clientThrottle.fail(clientKey);
      if (await ctx.accountThrottle.fail(accountKey)) throw new GatehouseError('account_locked');
      throw new GatehouseError('invalid_credentials');
    },
  };
}

type Credential = { kind: 'app_password'; id: string; name: string } | { kind: 'password'; name: null };

async function matchingCredential(
  ctx: AppPasswordContext,
  account: Account,
  typed: string,
): Promise<Credential | undefined> {
  const key = normaliseKeyPassword(typed);
  for (const appPassword of await ctx.store.appPasswords.listForAccount(account.id)) {
    if (await ctx.hasher.verify(appPassword.passwordHash, key)) {
      return { kind: 'app_password', id: appPassword.id, name: appPassword.name };
    }
  }
  // Before MFA is enabled, legacy clients keep working with the account password.
  if (!account.mfaEnabled && (await ctx.hasher.verify(account.passwordHash, typed)))
    return { kind: 'password', name: null };
  return undefined;
}

/**
 * The NPS-extension way for VPNs: the account password, then the user's approval in the app.
 * The password is throttled as any legacy sign-in; the approval is an `approval` push request.
 */
export function legacyPasswordAndPush(
  ctx: LegacySignInContext & {
    requestApproval(account: Account, clientAddress: string, application: string): Promise<string>;
  },
) {
  const decoy = ctx.hasher.hash(ctx.random.bytes(16).toString('hex'));
  return async (input: LegacySignIn & { application: string }): Promise<Account> => {
    const limits = await legacyLimits(ctx, input);
    const account = await ctx.store.accounts.findByEmail(input.email);
    const valid = await ctx.hasher.verify(account?.passwordHash ?? (await decoy), input.password);
    if (!account || !valid) {
      await ctx.audit.record({
        type: 'signin.failed',
        email: input.email,
        clientAddress: input.clientAddress,
        detail: { protocol: input.protocol, reason: account ? 'wrong_password' : 'unknown_account' },
      });
      return limits.failed();
    }
    await limits.succeeded();
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
