import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Clock, Random } from '../../clock.ts';
import type { SecretBox } from '../../crypto/secret-box.ts';
import { GatehouseError } from '../../errors.ts';
import type { Account, MfaMethod } from '../../model.ts';
import type { Store } from '../../store.ts';
import type { Throttle } from '../../throttle/throttle.ts';
import { matchingStep, newTotpSecret, provisioningUri } from './totp-codes.ts';
import { type TotpData, totpData, totpKeyData } from './totp-data.ts';

export interface TotpContext {
  store: Store;
  clock: Clock;
  random: Random;
  audit: AuditLog;
  secrets: SecretBox;
  /** Wrong codes per account; its lock refuses further codes for a while. */
  attempts: Throttle;
}

const attemptsKey = (accountId: string) => `totp:account:${accountId}`;

/** Any method that holds a TOTP key: the Gatehouse app (its codes) and standard authenticator apps. */
function sealedSecretOf(method: MfaMethod): string | undefined {
  return totpKeyData.safeParse(method.data).data?.totpSecret;
}

const enrolmentSessionOf = (method: MfaMethod) => totpData.safeParse(method.data).data?.enrolmentSession;

/**
 * Step 1 of registering a standard authenticator app: a new key, stored pending for the session
 * that asked (no other session ever sees it), and its otpauth URI.
 */
export async function beginStandardApp(
  ctx: TotpContext,
  account: Account,
  issuer: string,
  sessionHash: string,
) {
  const secret = newTotpSecret(ctx.random);
  const method: MfaMethod = {
    id: randomUUID(),
    accountId: account.id,
    kind: 'totp',
    label: 'Authenticator app (verification codes)',
    status: 'pending',
    isDefault: false,
    createdAt: ctx.clock.now(),
    lastUsedAt: null,
    data: { totpSecret: ctx.secrets.seal(secret), enrolmentSession: sessionHash } satisfies TotpData,
  };
  await ctx.store.methods.insert(method);
  return { methodId: method.id, secret, uri: provisioningUri(secret, issuer, account.email) };
}

/** The set-up this session started and has not finished, to show its QR code again. */
export async function pendingStandardApp(
  ctx: TotpContext,
  account: Account,
  issuer: string,
  sessionHash: string,
) {
  const method = (await ctx.store.methods.listForAccount(account.id))
    .filter((m) => m.kind === 'totp' && m.status === 'pending' && enrolmentSessionOf(m) === sessionHash)
    .at(-1);
  const sealed = method && sealedSecretOf(method);
  if (!method || !sealed) return undefined;
  const secret = ctx.secrets.open(sealed);
  return { methodId: method.id, secret, uri: provisioningUri(secret, issuer, account.email) };
}

/** Step 2: the first code from the app proves it holds the key; the method becomes active. */
export async function finishStandardApp(
  ctx: TotpContext,
  account: Account,
  methodId: string,
  code: string,
  clientAddress: string,
  sessionHash: string,
) {
  const method = await ctx.store.methods.find(methodId);
  if (
    !method ||
    method.accountId !== account.id ||
    method.kind !== 'totp' ||
    method.status !== 'pending' ||
    enrolmentSessionOf(method) !== sessionHash
  ) {
    throw new GatehouseError('method_not_found');
  }
  await checkAndClaim(ctx, account, [method], code, clientAddress);
  await ctx.store.methods.activate(method.id);
  await ctx.audit.record({
    type: 'totp.registered',
    email: account.email,
    actor: account.email,
    clientAddress,
    detail: { method: method.id },
  });
  return method;
}

/** A verification code at sign-in, from any of the account's active methods that show codes. */
export async function verifyCode(
  ctx: TotpContext,
  account: Account,
  code: string,
  clientAddress: string,
): Promise<MfaMethod> {
  const methods = (await ctx.store.methods.listForAccount(account.id)).filter(
    (m) => m.status === 'active' && sealedSecretOf(m) !== undefined,
  );
  if (methods.length === 0) throw new GatehouseError('method_not_found');
  const method = await checkAndClaim(ctx, account, methods, code, clientAddress);
  await ctx.store.methods.touch(method.id, ctx.clock.now());
  await ctx.audit.record({
    type: 'totp.accepted',
    email: account.email,
    clientAddress,
    detail: { method: method.id },
  });
  return method;
}

async function checkAndClaim(
  ctx: TotpContext,
  account: Account,
  methods: MfaMethod[],
  typed: string,
  clientAddress: string,
): Promise<MfaMethod> {
  // Counted before the code is checked, so a burst of guesses sent at once is not all checked.
  const attempt = await ctx.attempts.reserve(attemptsKey(account.id));
  if (!attempt.granted) throw new GatehouseError('too_many_attempts', undefined, { until: attempt.until });
  const code = typed.replace(/\s/g, '');
  const now = ctx.clock.now();
  for (const method of methods) {
    const step = matchingStep(ctx.secrets.open(sealedSecretOf(method) ?? ''), code, now);
    // A step is claimed in one conditional update: a code (or an earlier one) used before fails.
    if (step !== null && (await ctx.store.methods.claimStep(method.id, step))) {
      await attempt.passed();
      return method;
    }
  }
  await ctx.audit.record({ type: 'totp.rejected', email: account.email, clientAddress });
  const locked = await attempt.failed();
  if (locked) throw new GatehouseError('too_many_attempts', undefined, { until: locked });
  throw new GatehouseError('invalid_code');
}
