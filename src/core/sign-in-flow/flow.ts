import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock, Random } from '../clock.ts';
import type { TemporaryPasses } from '../console/temporary-pass.ts';
import { GatehouseError } from '../errors.ts';
import type { AuthenticationMethod, MethodCall, MethodSteps, Outcome } from '../methods/method.ts';
import type { MethodManagement } from '../methods/method-management.ts';
import {
  isPhishingResistant,
  PHISHING_RESISTANT,
  PHISHING_RESISTANT_WANTED,
  passkeyFactor,
} from '../methods/passkey/factors.ts';
import type { PasskeyService } from '../methods/passkey/passkey-service.ts';
import { stateBinding } from '../methods/passkey/passkey-service.ts';
import { groupRequiresPhishingResistant, type PasskeySettings } from '../methods/passkey/settings.ts';
import type { MethodRegistry } from '../methods/registry.ts';
import type { SmartcardMethod } from '../methods/smartcard/smartcard-service.ts';
import type { Account, Session } from '../model.ts';
import type { SelfEnrolment } from '../policy/self-enrolment.ts';
import type { ActiveSession, SessionService } from '../sessions/session-service.ts';
import { hashSessionToken, newSessionToken } from '../sessions/session-token.ts';
import { openSession, type SessionLifetime, type SignInResult } from '../sessions/sign-in.ts';
import type { Store } from '../store.ts';
import { type ThrottleRule, throttle } from '../throttle/throttle.ts';
import { endOtherSessions, type FactorChangeReason } from './other-sessions.ts';
import { type Proof, redeemProof } from './proof.ts';
import { type AccountFacts, type FactorChange, type FlowEvent, mayChange, nextState } from './transitions.ts';

export interface FlowDeps {
  store: Store;
  clock: Clock;
  random: Random;
  audit: AuditLog;
  lifetime: SessionLifetime;
  /** How recent a second factor must be for Security info changes (Entra: about 10 minutes). */
  freshMinutes: number;
  methods: MethodRegistry;
  sessions: SessionService;
  enrolment: SelfEnrolment;
  management: MethodManagement;
  smartcard: SmartcardMethod;
  /** Passkeys before sign-in (discoverable credentials), and who must use a phishing-resistant method. */
  passkeys: PasskeyService;
  passkeySettings: PasskeySettings;
  passwordSignIn(input: PasswordInput): Promise<SignInResult>;
  /** Temporary Access Passes (the operator console issues them). */
  passes: TemporaryPasses;
}

export interface PasswordInput {
  email: string;
  password: string;
  clientAddress: string;
  /** A validated path on the portal to return to once signed in (single sign-on). */
  returnTo?: string | null;
}

export type MethodName = keyof MethodRegistry;
type StepsOf<K extends MethodName> = MethodRegistry[K] extends AuthenticationMethod<infer S> ? S : never;

/** What a finishing step gives the web layer: a new session token once a factor was proved. */
export type FlowOutcome<Waiting, Done = never> =
  | { status: 'proved'; token: string }
  | { status: 'done'; result: Done }
  | { status: 'waiting'; view: Waiting };

/** The methods that change how the account signs in when enrolled, and the reason audited. */
const enrolmentChange: Record<MethodName, { change: FactorChange; reason: FactorChangeReason }> = {
  authenticator_app: { change: 'enrol_method', reason: 'method_registered' },
  totp: { change: 'enrol_method', reason: 'method_registered' },
  phone: { change: 'enrol_method', reason: 'method_registered' },
  app_password: { change: 'change_methods', reason: 'app_password_created' },
  smartcard: { change: 'change_methods', reason: 'smartcard_bound' },
  passkey: { change: 'enrol_method', reason: 'method_registered' },
};

/**
 * The one sign-in flow. Only this moves a session between stages (password accepted, MFA
 * required, registration required, factor proven, step-up, complete, ended), only with a proof
 * the session earned; routes and the OpenID interactions ask it what a session may do and render.
 */
/**
 * `Sign in with a passkey` asks for a challenge before anyone is known, and each is a stored row:
 * counted per client address first, so that a script cannot fill the table (a page asks once).
 */
export const PASSKEY_OPTIONS_LIMIT: ThrottleRule = { maxFailures: 30, windowMinutes: 1, lockMinutes: 1 };

export function signInFlow(deps: FlowDeps) {
  const { store, clock, audit, methods } = deps;
  const passkeyOptions = throttle(store, clock, PASSKEY_OPTIONS_LIMIT);

  async function factsOf(accountId: string): Promise<AccountFacts> {
    const account = await store.accounts.findById(accountId);
    if (!account) throw new GatehouseError('session_expired');
    return { mfaEnabled: account.mfaEnabled, activeMethods: await store.methods.countForAccount(accountId) };
  }

  const freshMfa = (session: Session) =>
    session.mfaProvedAt != null &&
    clock.now().getTime() - session.mfaProvedAt.getTime() <= deps.freshMinutes * 60_000;

  const callOf = (active: ActiveSession, clientAddress: string): MethodCall => ({ ...active, clientAddress });

  const method = <K extends MethodName>(kind: K) =>
    methods[kind] as unknown as AuthenticationMethod<StepsOf<K> & MethodSteps>;

  async function check(active: ActiveSession, change: FactorChange) {
    const { session } = active;
    mayChange(
      change,
      { stage: session.stage, factors: session.factors, freshMfa: freshMfa(session) },
      await factsOf(active.account.id),
    );
  }

  /** Moves the session by `event` in one conditional update; a promotion also gets a new token. */
  async function apply(active: ActiveSession, event: FlowEvent, rotate: boolean): Promise<string | null> {
    const { session } = active;
    const next = nextState(session, event, await factsOf(active.account.id));
    if (next.stage === 'ended' || next.stage === 'signed_out')
      throw new GatehouseError('flow_step_not_allowed');
    const token = rotate ? newSessionToken(deps.random) : null;
    const change = {
      idHash: token ? hashSessionToken(token) : session.idHash,
      stage: next.stage,
      factors: next.factors,
      mfaProvedAt: event.type === 'factor_proven' ? clock.now() : (session.mfaProvedAt ?? null),
      returnTo: session.returnTo ?? null,
    };
    // Of two requests promoting one session at once, one wins; the other's token is gone. The
    // session's own records follow the new token, so its pages still show what it started.
    const moved = await store.transaction(async (tx) => {
      if (!(await tx.sessions.move(session.idHash, session.stage, change))) return false;
      if (change.idHash !== session.idHash) await tx.sessions.carryRecords(session.idHash, change.idHash);
      return true;
    });
    if (!moved) throw new GatehouseError('session_expired');
    Object.assign(session, change);
    return token;
  }

  /** Redeems a proof for the session it was issued to: the only way to a second factor. */
  async function redeem(active: ActiveSession, proof: Proof, clientAddress: string): Promise<string> {
    if (proof.sessionHash !== active.session.idHash || !redeemProof(proof))
      throw new GatehouseError('flow_step_not_allowed');
    const event = {
      type: 'factor_proven',
      factor: proof.factor,
      purpose: proof.purpose,
      ...(proof.also ? { also: proof.also } : {}),
    } as const;
    const token = (await apply(active, event, true)) as string;
    const { account, session } = active;
    if (proof.purpose === 'registration')
      await endOtherSessions(store, audit, account, session.idHash, 'method_registered');
    await audit.record({
      type: 'mfa.verified',
      email: account.email,
      clientAddress,
      detail: { factors: session.factors, purpose: proof.purpose, challenge: proof.challenge },
    });
    return token;
  }

  async function settle<W, D>(
    active: ActiveSession,
    outcome: Outcome<W, D>,
    clientAddress: string,
  ): Promise<FlowOutcome<W, D>> {
    if (outcome.status !== 'proved') return outcome;
    return { status: 'proved', token: await redeem(active, outcome.proof, clientAddress) };
  }

  /** Whether an operator requires a phishing-resistant method (passkey or smartcard) of this account. */
  const phishingResistantRequired = (account: Account) =>
    groupRequiresPhishingResistant(deps.passkeySettings, account);

  /**
   * Whether only a passkey may answer this session now: its account's group requires one, or the
   * step-up it is in was asked for by an application or the console that does.
   */
  const phishingResistantWanted = (active: ActiveSession) =>
    phishingResistantRequired(active.account) || active.session.factors.includes(PHISHING_RESISTANT_WANTED);

  function requirePhishingResistant(active: ActiveSession, kind: MethodName) {
    if (kind !== 'passkey' && phishingResistantWanted(active))
      throw new GatehouseError('phishing_resistant_required');
  }

  function requireStage(active: ActiveSession, stage: Session['stage']) {
    if (active.session.stage !== stage) throw new GatehouseError('flow_step_not_allowed');
  }

  return {
    /** Password sign-in: a new session at the stage the account's facts call for. */
    signIn: (input: PasswordInput) => deps.passwordSignIn(input),

    /** A checked smartcard opens a complete session: the card is both factors. */
    async signInWithSmartcard(input: {
      ticket: string;
      state: string;
      clientAddress: string;
      returnTo: string | null;
    }): Promise<{ token: string; account: Account }> {
      const account = await deps.smartcard.redeemSignIn(input);
      const { stage, factors } = nextState(
        { stage: 'signed_out', factors: [] },
        { type: 'smartcard_accepted' },
        await factsOf(account.id),
      );
      if (stage !== 'complete') throw new GatehouseError('flow_step_not_allowed');
      const token = await openSession(deps, account, stage, factors, input.returnTo, clock.now());
      return { token, account };
    },

    /**
     * `Sign in with a passkey` before any session: the options for a discoverable passkey, their
     * challenge bound to `state`, a random value the browser keeps in a cookie.
     */
    /** Throws `passkey_requests_throttled` beyond PASSKEY_OPTIONS_LIMIT for the address. */
    async startPasskeySignIn(state: string, origin: string, clientAddress: string) {
      const until = await passkeyOptions.consume(`passkey:options:${clientAddress}`);
      if (until) throw new GatehouseError('passkey_requests_throttled', undefined, { until });
      return deps.passkeys.beginAuthentication(null, stateBinding(state), origin);
    },

    /** A discoverable passkey opens a complete session: it is both factors, and phishing-resistant. */
    async signInWithPasskey(input: {
      state: string;
      origin: string;
      response: Parameters<PasskeyService['finishAuthentication']>[3];
      clientAddress: string;
      returnTo: string | null;
    }): Promise<{ token: string; account: Account }> {
      const use = await deps.passkeys.finishAuthentication(
        null,
        stateBinding(input.state),
        input.origin,
        input.response,
        input.clientAddress,
      );
      const { stage, factors } = nextState(
        { stage: 'signed_out', factors: [] },
        { type: 'passkey_accepted', factors: [passkeyFactor(use.attachment), 'user', PHISHING_RESISTANT] },
        await factsOf(use.account.id),
      );
      if (stage !== 'complete') throw new GatehouseError('flow_step_not_allowed');
      const token = await openSession(deps, use.account, stage, factors, input.returnTo, clock.now());
      await audit.record({
        type: 'mfa.verified',
        email: use.account.email,
        clientAddress: input.clientAddress,
        detail: { factors, purpose: 'sign_in', challenge: `passkey:${use.method.id}` },
      });
      return { token, account: use.account };
    },

    /** Whether an operator requires this account to sign in with a passkey or smartcard. */
    phishingResistantRequired,
    /** Whether only a passkey (or a new smartcard sign-in) can take this session further. */
    phishingResistantWanted,
    /**
     * Whether the account has a passkey to answer a phishing-resistant step-up with. A smartcard
     * cannot be known in advance (a card may map by its e-mail or UPN), so it is always offered.
     */
    hasPasskey: async (account: Account) =>
      (await store.methods.listForAccount(account.id)).some(
        (m) => m.kind === 'passkey' && m.status === 'active',
      ),
    /** Whether the session signed in with a phishing-resistant method. */
    isPhishingResistant: (active: ActiveSession) => isPhishingResistant(active.session.factors),

    resume: (token: string, clientAddress: string) => deps.sessions.resume(token, clientAddress),
    signOut: (token: string, clientAddress: string) => deps.sessions.signOut(token, clientAddress),

    /** The methods this session can prove a second factor with, the default one first. */
    async challengeMethods(active: ActiveSession): Promise<MethodName[]> {
      const registered = (await store.methods.listForAccount(active.account.id)).filter(
        (m) => m.status === 'active',
      );
      const preferred = registered.find((m) => m.isDefault)?.kind;
      const order: MethodName[] = ['authenticator_app', 'phone', 'totp', 'passkey'];
      const usable = order.filter((kind) => methods[kind].available(registered));
      if (phishingResistantWanted(active)) return usable.filter((kind) => kind === 'passkey');
      const first = usable.find((kind) => kind === preferred) ?? usable[0];
      return first ? [first, ...usable.filter((kind) => kind !== first)] : [];
    },

    async startChallenge<K extends MethodName>(
      active: ActiveSession,
      kind: K,
      input: StepsOf<K>['startChallenge'],
      clientAddress: string,
    ): Promise<StepsOf<K>['challengeView']> {
      requireStage(active, 'verify_mfa');
      requirePhishingResistant(active, kind);
      return method(kind).startChallenge(callOf(active, clientAddress), input);
    },

    async finishChallenge<K extends MethodName>(
      active: ActiveSession,
      kind: K,
      input: StepsOf<K>['finishChallenge'],
      clientAddress: string,
    ): Promise<FlowOutcome<StepsOf<K>['challengeView']>> {
      requireStage(active, 'verify_mfa');
      requirePhishingResistant(active, kind);
      const outcome = await method(kind).finishChallenge(callOf(active, clientAddress), input);
      return settle(active, outcome as Outcome<StepsOf<K>['challengeView']>, clientAddress);
    },

    async startEnrolment<K extends MethodName>(
      active: ActiveSession,
      kind: K,
      input: StepsOf<K>['startEnrolment'],
      clientAddress: string,
    ): Promise<StepsOf<K>['enrolmentView']> {
      await check(active, enrolmentChange[kind].change);
      // The wizard (a first method, or one after a Temporary Access Pass) of an account that must
      // sign in with a passkey registers a passkey: anything else could not be used to sign in.
      if (active.session.stage === 'register_mfa') requirePhishingResistant(active, kind);
      return method(kind).startEnrolment(callOf(active, clientAddress), input);
    },

    async finishEnrolment<K extends MethodName>(
      active: ActiveSession,
      kind: K,
      input: StepsOf<K>['finishEnrolment'],
      clientAddress: string,
    ): Promise<FlowOutcome<StepsOf<K>['enrolmentView'], StepsOf<K>['enrolmentResult']>> {
      const { change, reason } = enrolmentChange[kind];
      await check(active, change === 'enrol_method' ? 'finish_enrolment' : change);
      const outcome = await method(kind).finishEnrolment(callOf(active, clientAddress), input);
      if (outcome.status === 'done')
        await endOtherSessions(store, audit, active.account, active.session.idHash, reason);
      return settle(active, outcome, clientAddress);
    },

    /** Whether the session may make the change now; the error's code says what to do if not. */
    mayChange: check,

    async removeMethod(active: ActiveSession, kind: MethodName, id: string, clientAddress: string) {
      // Revoking an app password only takes access away, so it needs no fresh second factor.
      if (kind !== 'app_password') await check(active, 'change_methods');
      await method(kind).remove(callOf(active, clientAddress), id);
      const reason = kind === 'smartcard' ? 'smartcard_removed' : 'method_removed';
      if (kind !== 'app_password')
        await endOtherSessions(store, audit, active.account, active.session.idHash, reason);
    },

    /** Which method is asked for first at sign-in. */
    async setDefault(active: ActiveSession, methodId: string, clientAddress: string) {
      await check(active, 'change_methods');
      await deps.management.setDefault(active.account, methodId, clientAddress);
    },

    /** Self-enrolment's Confirm: MFA on, and every other session of the account ends. */
    async enableMfa(active: ActiveSession, clientAddress: string) {
      await deps.enrolment.enable(active.account, clientAddress, active.session.idHash);
    },

    /**
     * A complete session proves a second factor again (an application demands MFA, or Security
     * info wants a fresh proof), then goes back to `returnTo`.
     */
    async stepUp(
      active: ActiveSession,
      returnTo: string | null,
      clientAddress: string,
      options: { phishingResistant?: boolean } = {},
    ) {
      active.session.returnTo = returnTo;
      const phishingResistant = options.phishingResistant === true;
      await apply(active, { type: 'step_up', phishingResistant }, false);
      await audit.record({
        type: 'session.stepped_up',
        email: active.account.email,
        clientAddress,
        detail: { returnTo, ...(phishingResistant ? { phishingResistant } : {}) },
      });
    },

    /**
     * A Temporary Access Pass instead of the second factor: claimed once (one conditional update,
     * bound to this session), then the session may only register a new method. Returns the new
     * token of the promoted session.
     */
    async useTemporaryPass(active: ActiveSession, typed: string, clientAddress: string): Promise<string> {
      requireStage(active, 'verify_mfa');
      await deps.passes.claim(active.account, typed, active.session.idHash, clientAddress);
      return (await apply(active, { type: 'pass_accepted' }, true)) as string;
    },

    /** Where to go back to once signed in: a path on this portal (the web layer validates it). */
    async returnTo(active: ActiveSession, path: string | null) {
      if (path !== null && (!path.startsWith('/') || path.startsWith('//')))
        throw new GatehouseError('invalid_input');
      await store.sessions.setReturnTo(active.session.idHash, path);
      active.session.returnTo = path;
    },

    setFlash: deps.sessions.setFlash,
    takeFlash: deps.sessions.takeFlash,
  };
}

export type SignInFlow = ReturnType<typeof signInFlow>;
