import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock, Random } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { Account, SessionStage } from '../model.ts';
import type { PasswordHasher } from '../passwords/hasher.ts';
import { upgradePasswordHash } from '../passwords/upgrade.ts';
import { nextState } from '../sign-in-flow/transitions.ts';
import type { Store } from '../store.ts';
import type { Throttle } from '../throttle/throttle.ts';
import { hashSessionToken, newSessionToken } from './session-token.ts';

export interface SessionLifetime {
  idleMinutes: number;
  absoluteHours: number;
}

export interface SignInDeps {
  store: Store;
  clock: Clock;
  random: Random;
  hasher: PasswordHasher;
  audit: AuditLog;
  accountThrottle: Throttle;
  clientThrottle: Throttle;
  lifetime: SessionLifetime;
}

export interface SignInResult {
  token: string;
  account: Account;
  stage: SessionStage;
}

/**
 * Password sign-in. Failures look the same whether or not the account exists; both the address
 * tried and the client are throttled, and locking is keyed by the address typed, so a lockout
 * tells an attacker nothing about which accounts exist.
 */
export function signInWithPassword(deps: SignInDeps) {
  const { store, clock, random, hasher, audit, accountThrottle, clientThrottle, lifetime } = deps;
  // Verified against when the account does not exist, so a miss costs the same time as a hit.
  const decoyHash = hasher.hash(random.bytes(16).toString('hex'));

  return async (input: {
    email: string;
    password: string;
    clientAddress: string;
    /** A validated path on the portal to return to once signed in (single sign-on). */
    returnTo?: string | null;
  }): Promise<SignInResult> => {
    const { email, password, clientAddress } = input;
    const accountKey = `signin:email:${email}`;
    const clientKey = `signin:client:${clientAddress}`;

    // Both limits reserve this attempt before the password is checked, so that a burst of
    // attempts sent at once cannot all be checked before the first failure is counted.
    const client = await clientThrottle.reserve(clientKey);
    if (!client.granted) {
      await audit.record({ type: 'signin.throttled', email, clientAddress, detail: { until: client.until } });
      throw new GatehouseError('client_throttled', undefined, { until: client.until });
    }
    const attempt = await accountThrottle.reserve(accountKey);
    if (!attempt.granted) {
      // Not checked, so not one of the client's failures.
      await client.released();
      await audit.record({ type: 'signin.failed', email, clientAddress, detail: { reason: 'locked' } });
      throw new GatehouseError('account_locked', undefined, { until: attempt.until });
    }

    const found = await store.accounts.findByEmail(email);
    // A disabled account is checked like an unknown one (the same hash, the same answer).
    const account = found?.disabledAt ? undefined : found;
    const valid = await hasher.verify(account?.passwordHash ?? (await decoyHash), password);
    if (!account || !valid) {
      await audit.record({
        type: 'signin.failed',
        email,
        clientAddress,
        detail: { reason: found?.disabledAt ? 'disabled' : failureReason(account) },
      });
      await client.failed();
      const lockedUntil = await attempt.failed();
      if (lockedUntil) {
        await audit.record({ type: 'signin.locked', email, clientAddress, detail: { until: lockedUntil } });
        throw new GatehouseError('account_locked', undefined, { until: lockedUntil });
      }
      throw new GatehouseError('invalid_credentials');
    }

    // The client's limit counts failures only; the address typed starts afresh, as before.
    await client.released();
    await attempt.passed();
    await upgradePasswordHash({ store, hasher, audit }, account, password);

    const { stage } = nextState(
      { stage: 'signed_out', factors: [] },
      { type: 'password_accepted' },
      { mfaEnabled: account.mfaEnabled, activeMethods: await store.methods.countForAccount(account.id) },
    );
    if (stage === 'signed_out' || stage === 'ended') throw new GatehouseError('flow_step_not_allowed');
    const token = await openSession(
      { store, clock, random, lifetime },
      account,
      stage,
      ['pwd'],
      input.returnTo,
    );
    await audit.record({
      type: 'signin.succeeded',
      email,
      clientAddress,
      detail: { factors: ['pwd'], stage },
    });
    return { token, account, stage };
  };
}

/** For the audit log only: the person sees the same invalid_credentials in each case. */
export function failureReason(account: Account | undefined): string {
  if (!account) return 'unknown_account';
  return account.passwordHash === null ? 'no_password' : 'wrong_password';
}

/**
 * Creates a session and returns its token (only the token's hash is stored). Every way of signing
 * in (password, smartcard) ends here with the stage and the factors it proved.
 */
export async function openSession(
  deps: Pick<SignInDeps, 'store' | 'clock' | 'random' | 'lifetime'>,
  account: Account,
  stage: SessionStage,
  factors: string[],
  returnTo: string | null = null,
  mfaProvedAt: Date | null = null,
): Promise<string> {
  const token = newSessionToken(deps.random);
  const now = deps.clock.now();
  await deps.store.sessions.insert({
    idHash: hashSessionToken(token),
    accountId: account.id,
    stage,
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: new Date(now.getTime() + deps.lifetime.idleMinutes * 60_000),
    absoluteExpiresAt: new Date(now.getTime() + deps.lifetime.absoluteHours * 3_600_000),
    flash: null,
    factors,
    returnTo,
    mfaProvedAt,
  });
  return token;
}
