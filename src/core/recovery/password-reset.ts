import { createHash } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock, Random } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { MethodCall } from '../methods/method.ts';
import type { MethodRegistry } from '../methods/registry.ts';
import type { Account, PasswordReset, ResetFactor, Session } from '../model.ts';
import type { PasswordHasher } from '../passwords/hasher.ts';
import { normalisedPassword } from '../passwords/normalise.ts';
import { checkNewPassword } from '../passwords/password-policy.ts';
import type { SignOutEverywhere } from '../sessions/sign-out-everywhere.ts';
import { redeemProof } from '../sign-in-flow/proof.ts';
import type { SecondFactor } from '../sign-in-flow/transitions.ts';
import type { Store } from '../store.ts';
import { type ThrottleRule, throttle } from '../throttle/throttle.ts';

const RESET_MINUTES = 15;
/**
 * Resets started, counted before one is made: per client address (a script filling the table, or
 * walking addresses to set off challenges) and per email address (someone else's phone rung).
 */
export const RESET_LIMITS: { perAddress: ThrottleRule; perEmail: ThrottleRule } = {
  perAddress: { maxFailures: 10, windowMinutes: 15, lockMinutes: 15 },
  perEmail: { maxFailures: 5, windowMinutes: 60, lockMinutes: 60 },
};
/** Two different factors, never one twice: an app's push and its codes are one device. */
export const FACTORS_NEEDED = 2;

const familyOf: Record<SecondFactor, ResetFactor> = { swk: 'app', otp: 'app', tel: 'phone', sms: 'phone' };

/** The methods a reset can challenge, and the factor each proves. */
export type ResetMethod = 'authenticator_app' | 'totp' | 'phone';
const methodFamily: Record<ResetMethod, ResetFactor> = {
  authenticator_app: 'app',
  totp: 'app',
  phone: 'phone',
};

/** What the browser holds: the reset's id (in its address) and a secret of its own (a cookie). */
export interface ResetHandle {
  id: string;
  browserSecret: string;
  clientAddress: string;
}

export interface ResetState {
  /** The methods the account can prove a factor with (empty for an unknown address). */
  methods: ResetMethod[];
  /** Factors proved so far. */
  proved: ResetFactor[];
  /** False when fewer than two factors are registered: only the service desk can help. */
  possible: boolean;
  /** Two factors proved, or a smartcard: the new password may be chosen. */
  ready: boolean;
  /** Smartcards are accepted here: a card (with its PIN) is two factors on its own. */
  smartcard: boolean;
}

/** Enough to choose a new password: two different factors, or a smartcard (card and PIN). */
const enough = (factors: readonly ResetFactor[]) =>
  factors.includes('smartcard') || new Set(factors).size >= FACTORS_NEEDED;

/** The smartcard half a reset needs (src/core/methods/smartcard). */
export interface ResetSmartcard {
  configured: boolean;
  redeemForReset(input: { ticket: string; state: string; clientAddress: string }): Promise<{
    accountId: string | null;
    certificate: Record<string, unknown> | undefined;
  }>;
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

/**
 * Forgotten password: the user proves two different registered second factors (the app, and a
 * phone), never one and never an email link alone. Each step is bound to the browser that began
 * the reset (a secret in its cookie), counted once in one conditional update, and taken in order;
 * a refused step is audited. Resetting changes the password only: MFA stays as it was, and every
 * session, single sign-on session and refresh token of the account ends.
 */
export function passwordReset(deps: {
  store: Store;
  clock: Clock;
  random: Random;
  hasher: PasswordHasher;
  audit: AuditLog;
  methods: MethodRegistry;
  smartcard: ResetSmartcard;
  signOutEverywhere: SignOutEverywhere;
}) {
  const { store, clock, random, audit, methods } = deps;
  const perAddress = throttle(store, clock, RESET_LIMITS.perAddress);
  const perEmail = throttle(store, clock, RESET_LIMITS.perEmail);

  /** One reset counted against both limits before it is made; refused and audited beyond them. */
  async function countStart(email: string, clientAddress: string) {
    const until =
      (await perAddress.consume(`reset:address:${clientAddress}`)) ??
      (await perEmail.consume(`reset:email:${email}`));
    if (!until) return;
    await audit.record({
      type: 'password_reset.refused',
      email,
      clientAddress,
      detail: { reason: 'too_many_resets', until },
    });
    throw new GatehouseError('reset_throttled', undefined, { until });
  }

  async function refuse(
    email: string | null,
    clientAddress: string,
    reason: string,
    code: 'reset_invalid' | 'reset_step_not_allowed' = 'reset_invalid',
  ): Promise<never> {
    await audit.record({ type: 'password_reset.refused', email, clientAddress, detail: { reason } });
    throw new GatehouseError(code);
  }

  /** The reset of this handle, only in the browser that began it, while open. */
  async function open(handle: ResetHandle): Promise<{ reset: PasswordReset; account: Account | undefined }> {
    const reset = handle.id.length <= 100 ? await store.passwordResets.find(sha256(handle.id)) : undefined;
    if (!reset) return refuse(null, handle.clientAddress, 'unknown');
    if (reset.browserHash !== sha256(handle.browserSecret))
      return refuse(reset.email, handle.clientAddress, 'other_browser');
    if (reset.completedAt) return refuse(reset.email, handle.clientAddress, 'already_used');
    if (reset.expiresAt <= clock.now()) return refuse(reset.email, handle.clientAddress, 'expired');
    const account = reset.accountId ? await store.accounts.findById(reset.accountId) : undefined;
    return { reset, account };
  }

  async function methodsOf(account: Account | undefined): Promise<ResetMethod[]> {
    if (!account) return [];
    const registered = (await store.methods.listForAccount(account.id)).filter((m) => m.status === 'active');
    return (['authenticator_app', 'totp', 'phone'] as const).filter((kind) =>
      methods[kind].available(registered),
    );
  }

  const familiesOf = (list: ResetMethod[]) => [...new Set(list.map((m) => methodFamily[m]))];

  /** Stands in for a sign-in session while the challenges run: its records are the reset's own. */
  const callOf = (reset: PasswordReset, account: Account, clientAddress: string): MethodCall => {
    const session: Session = {
      idHash: `reset:${reset.idHash}`,
      accountId: account.id,
      stage: 'verify_mfa',
      createdAt: reset.createdAt,
      lastSeenAt: clock.now(),
      idleExpiresAt: reset.expiresAt,
      absoluteExpiresAt: reset.expiresAt,
      flash: null,
      factors: [],
      returnTo: null,
      mfaProvedAt: null,
    };
    return { account, session, clientAddress };
  };

  /** The account and the method of a challenge step, refused when out of order. */
  async function stepOf(handle: ResetHandle, kind: ResetMethod) {
    const { reset, account } = await open(handle);
    const available = await methodsOf(account);
    if (!account || familiesOf(available).length < FACTORS_NEEDED)
      return refuse(reset.email, handle.clientAddress, 'not_enough_factors', 'reset_step_not_allowed');
    if (!available.includes(kind))
      return refuse(reset.email, handle.clientAddress, 'method_not_registered', 'reset_step_not_allowed');
    if (reset.factors.includes(methodFamily[kind]))
      return refuse(reset.email, handle.clientAddress, 'factor_already_proved', 'reset_step_not_allowed');
    return { reset, account, call: callOf(reset, account, handle.clientAddress) };
  }

  return {
    /** Throws `reset_throttled` beyond the limits (RESET_LIMITS). */
    async start(input: { email: string; clientAddress: string }): Promise<ResetHandle> {
      await countStart(input.email, input.clientAddress);
      const account = await store.accounts.findByEmail(input.email);
      const id = random.bytes(32).toString('base64url');
      const browserSecret = random.bytes(32).toString('base64url');
      const now = clock.now();
      await store.passwordResets.insert({
        idHash: sha256(id),
        browserHash: sha256(browserSecret),
        accountId: account?.id ?? null,
        email: input.email,
        factors: [],
        createdAt: now,
        expiresAt: new Date(now.getTime() + RESET_MINUTES * 60_000),
        completedAt: null,
      });
      return { id, browserSecret, clientAddress: input.clientAddress };
    },

    async state(handle: ResetHandle): Promise<ResetState> {
      const { reset, account } = await open(handle);
      const available = await methodsOf(account);
      const possible = familiesOf(available).length >= FACTORS_NEEDED;
      return {
        methods: available.filter((m) => !reset.factors.includes(methodFamily[m])),
        proved: reset.factors,
        possible,
        ready: Boolean(account) && enough(reset.factors),
        smartcard: deps.smartcard.configured,
      };
    },

    /**
     * A smartcard checked at the certificate endpoint for this reset: both factors at once, when
     * the card maps to the reset's account. Counted once, like any factor; refusals audited.
     */
    async proveWithSmartcard(handle: ResetHandle, input: { ticket: string; state: string }): Promise<void> {
      const { reset, account } = await open(handle);
      const card = await deps.smartcard.redeemForReset({ ...input, clientAddress: handle.clientAddress });
      if (!account || account.disabledAt || card.accountId !== account.id)
        return refuse(reset.email, handle.clientAddress, 'smartcard_other_account', 'reset_step_not_allowed');
      if (reset.factors.includes('smartcard'))
        return refuse(reset.email, handle.clientAddress, 'factor_already_proved', 'reset_step_not_allowed');
      if (!(await store.passwordResets.addFactor(reset.idHash, reset.factors, 'smartcard', clock.now())))
        return refuse(reset.email, handle.clientAddress, 'step_raced', 'reset_step_not_allowed');
      await audit.record({
        type: 'password_reset.factor_proved',
        email: account.email,
        clientAddress: handle.clientAddress,
        detail: { factor: 'smartcard', certificate: card.certificate, proved: reset.factors.length + 1 },
      });
    },

    async startChallenge<K extends ResetMethod>(
      handle: ResetHandle,
      kind: K,
      input: Parameters<MethodRegistry[K]['startChallenge']>[1],
    ) {
      const { call } = await stepOf(handle, kind);
      // biome-ignore lint/suspicious/noExplicitAny: one call for three methods whose inputs differ by kind
      return (methods[kind].startChallenge as any)(call, input) as ReturnType<
        MethodRegistry[K]['startChallenge']
      >;
    },

    /** Finishes a challenge; a proved one counts its factor once. */
    async finishChallenge<K extends ResetMethod>(
      handle: ResetHandle,
      kind: K,
      input: Parameters<MethodRegistry[K]['finishChallenge']>[1],
    ): Promise<{ proved: boolean; view: unknown }> {
      const { reset, account, call } = await stepOf(handle, kind);
      // biome-ignore lint/suspicious/noExplicitAny: as above
      const outcome = await (methods[kind].finishChallenge as any)(call, input);
      if (outcome.status !== 'proved') return { proved: false, view: outcome.view };
      const proof = outcome.proof;
      if (proof.sessionHash !== call.session.idHash || proof.purpose !== 'sign_in' || !redeemProof(proof))
        return refuse(reset.email, handle.clientAddress, 'proof_not_ours', 'reset_step_not_allowed');
      const factor = familyOf[proof.factor as SecondFactor];
      if (!(await store.passwordResets.addFactor(reset.idHash, reset.factors, factor, clock.now())))
        return refuse(reset.email, handle.clientAddress, 'step_raced', 'reset_step_not_allowed');
      await audit.record({
        type: 'password_reset.factor_proved',
        email: account.email,
        clientAddress: handle.clientAddress,
        detail: { factor, challenge: proof.challenge, proved: reset.factors.length + 1 },
      });
      return { proved: true, view: undefined };
    },

    /** The last step: only after two factors, once. */
    async choosePassword(handle: ResetHandle, password: string): Promise<Account> {
      const { reset, account } = await open(handle);
      if (!account || !enough(reset.factors))
        return refuse(reset.email, handle.clientAddress, 'factors_missing', 'reset_step_not_allowed');
      const next = normalisedPassword(password);
      checkNewPassword(next, account.email);
      const hash = await deps.hasher.hash(next);
      if (!(await store.passwordResets.complete(reset.idHash, clock.now())))
        return refuse(reset.email, handle.clientAddress, 'already_used');
      await store.accounts.updatePasswordHash(account.id, hash);
      await audit.record({
        type: 'account.password_reset',
        email: account.email,
        clientAddress: handle.clientAddress,
        detail: { factors: reset.factors },
      });
      await deps.signOutEverywhere(account, {
        reason: 'password_reset',
        clientAddress: handle.clientAddress,
      });
      return account;
    },
  };
}

export type PasswordResetService = ReturnType<typeof passwordReset>;
