import { type AccountService, accountService } from './accounts/account-service.ts';
import { type ApplicationService, applicationService } from './applications/application-service.ts';
import { type SigningKeys, signingKeys } from './applications/signing-keys.ts';
import { type SingleSignOnService, singleSignOnService } from './applications/single-sign-on.ts';
import { type AuditLog, auditLog } from './audit/audit-log.ts';
import { type Clock, type Random, systemClock, systemRandom } from './clock.ts';
import { type OperatorConsole, operatorConsole } from './console/operator-console.ts';
import { type TemporaryPasses, temporaryPasses } from './console/temporary-pass.ts';
import type { SecretBox } from './crypto/secret-box.ts';
import { type DirectoryService, directoryService } from './directory/service-account.ts';
import { GatehouseError } from './errors.ts';
import { type EventBus, inProcessBus } from './events/bus.ts';
import {
  type AppPasswordContext,
  createAppPassword,
  revokeAppPassword,
} from './methods/app-password/app-passwords.ts';
import { bindCache } from './methods/app-password/bind-cache.ts';
import { keyFingerprint } from './methods/app-password/fingerprint.ts';
import {
  type LegacySignIn,
  legacyPasswordAndPush,
  legacySignIn,
} from './methods/app-password/legacy-sign-in.ts';
import type { AppContext } from './methods/authenticator-app/context.ts';
import { type AuthenticatorApp, authenticatorApp } from './methods/authenticator-app/index.ts';
import type { DeviceNotifier } from './methods/authenticator-app/notifier.ts';
import { defaultPushSettings, type PushSettings } from './methods/authenticator-app/settings.ts';
import { type MethodManagement, methodManagement } from './methods/method-management.ts';
import { type PasskeyService, passkeyService } from './methods/passkey/passkey-service.ts';
import {
  defaultPasskeySettings,
  groupRequiresPhishingResistant,
  type PasskeySettings,
} from './methods/passkey/settings.ts';
import { type PhoneMethod, phoneMethod } from './methods/phone/phone-service.ts';
import { defaultPhoneSettings, type PhoneSettings } from './methods/phone/settings.ts';
import type { Telephony } from './methods/phone/telephony.ts';
import { methodRegistry } from './methods/registry.ts';
import { defaultSmartcardSettings, type SmartcardSettings } from './methods/smartcard/settings.ts';
import { type SmartcardMethod, smartcardMethod } from './methods/smartcard/smartcard-service.ts';
import type { CertificateTrust } from './methods/smartcard/trust.ts';
import { pendingStandardApp, type TotpContext, verifyCode } from './methods/totp/totp-service.ts';
import { type Monitoring, monitoring } from './monitoring/monitoring.ts';
import { observedHasher } from './monitoring/observed-hasher.ts';
import { type CoreObserver, noObserver } from './monitoring/observer.ts';
import { withNotices } from './notices/notices.ts';
import { type NoticeOutbox, noticeOutbox } from './notices/outbox.ts';
import { changePassword } from './own-account/change-password.ts';
import { defaultNudgeSettings, type NudgeSettings, registrationNudge } from './own-account/nudge.ts';
import { signInHistory } from './own-account/sign-in-history.ts';
import { argon2idHasher, type PasswordHasher } from './passwords/hasher.ts';
import { type SelfEnrolment, selfEnrolment } from './policy/self-enrolment.ts';
import { type PasswordResetService, passwordReset } from './recovery/password-reset.ts';
import { type SessionService, sessionService } from './sessions/session-service.ts';
import { type SessionLifetime, signInWithPassword } from './sessions/sign-in.ts';
import { type SignOutEverywhere, signOutEverywhere } from './sessions/sign-out-everywhere.ts';
import { type SignInFlow, signInFlow } from './sign-in-flow/flow.ts';
import type { Store } from './store.ts';
import { type ThrottleRule, throttle } from './throttle/throttle.ts';

/** Without a configured provider, nothing is dialled and the user is told the method is unavailable. */
const noTelephony: Telephony = {
  placeCall: async () => {
    throw new GatehouseError('phone_unavailable');
  },
  sendText: async () => {
    throw new GatehouseError('phone_unavailable');
  },
};

export interface CoreSettings {
  session: SessionLifetime & {
    /** How recently a second factor must have been proved to change how the account signs in. */
    freshMinutes: number;
  };
  /** Failures per address typed at sign-in (whether or not the account exists). */
  accountLockout: ThrottleRule;
  /** Failures per client address, across all accounts (password spraying). */
  clientLockout: ThrottleRule;
  push: PushSettings;
  phone: PhoneSettings;
  /** Wrong verification codes per account. */
  codeAttempts: ThrottleRule;
  /** How long a successful legacy bind is remembered (0: never); see bind-cache.ts. */
  legacyBindCacheSeconds: number;
  /** The registration nudge towards the authenticator app (nobody is nudged by default). */
  nudge?: NudgeSettings;
  /** Passkeys: the name browsers show, allowed models, who must use a phishing-resistant method. */
  passkeys?: PasskeySettings;
}

export const defaultCoreSettings: CoreSettings = {
  session: { idleMinutes: 30, absoluteHours: 12, freshMinutes: 15 },
  accountLockout: { maxFailures: 5, windowMinutes: 15, lockMinutes: 15 },
  clientLockout: { maxFailures: 50, windowMinutes: 15, lockMinutes: 15 },
  push: defaultPushSettings,
  phone: defaultPhoneSettings,
  codeAttempts: { maxFailures: 5, windowMinutes: 15, lockMinutes: 15 },
  legacyBindCacheSeconds: 0,
};

/**
 * What the web, OpenID, gateway and command-line layers may use. There is no store here: every
 * change of a session goes through `flow`, every read through a service.
 */
export interface Core {
  clock: Clock;
  audit: AuditLog;
  accounts: AccountService;
  sessions: SessionService;
  enrolment: SelfEnrolment;
  /** The sign-in flow: the only way a session moves between stages. */
  flow: SignInFlow;
  /** The device side of the authenticator app (activation, answers, events) and what PCs show. */
  authenticatorApp: AuthenticatorApp;
  totp: {
    /** A code outside a portal session (the command-line authenticator's checks). */
    verifyCode(account: Account, code: string, clientAddress: string): Promise<unknown>;
    /** The standard app set-up this session started (its QR code), without starting one. */
    pendingStandardApp(
      account: Account,
      issuer: string,
      session: Session,
    ): ReturnType<typeof pendingStandardApp>;
  };
  /** App passwords made outside a portal session (operators, tests); users go through `flow`. */
  appPasswords: {
    create(account: Account, name: string, clientAddress: string): ReturnType<typeof createAppPassword>;
    revoke(account: Account, id: string, actor: string, clientAddress: string | null): Promise<void>;
  };
  /** LDAP binds and RADIUS requests: app passwords (or, before MFA, the account password). */
  legacySignIn(input: LegacySignIn): Promise<Account>;
  /** A VPN's RADIUS request in password-and-push mode: the account password, then app approval. */
  legacyPasswordAndPush(input: LegacySignIn & { application: string }): Promise<Account>;
  /** A directory's service account (LDAP search-then-bind): its binds, its search quota, lookups. */
  directory: DirectoryService;
  methods: MethodManagement;
  applications: ApplicationService;
  /** The OpenID provider's storage and the account facts it needs. */
  singleSignOn: SingleSignOnService;
  phone: PhoneMethod;
  /** Smartcard sign-in and card binding (refuses every card when not configured). */
  smartcard: SmartcardMethod;
  /** Passkeys outside the flow: the state a browser keeps before sign-in. */
  passkeys: Pick<PasskeyService, 'newState'>;
  /** The keys that sign ID tokens for single sign-on. */
  signingKeys: SigningKeys;
  /**
   * Ends every portal session, single sign-on session and refresh token of an account, on every
   * instance (but the session given as `keep`). The one function for it: users, resets and the
   * operator console all call this.
   */
  signOutEverywhere: SignOutEverywhere;
  /** What users do with their own account: password, sign-in activity, the registration nudge. */
  ownAccount: {
    password: ReturnType<typeof changePassword>;
    signIns: ReturnType<typeof signInHistory>;
    nudge: ReturnType<typeof registrationNudge>;
  };
  /** Forgotten password, with two factors. */
  passwordReset: PasswordResetService;
  /** Security notices waiting for the mail server (the mail channel sends them). */
  notices: NoticeOutbox;
  /** The operator console and its command-line twins (issue 13): every change by an operator. */
  console: OperatorConsole;
  /** Temporary Access Passes: issued through `console`, used through `flow`, swept here. */
  passes: Pick<TemporaryPasses, 'sweep'>;
  /** Whether the database answers (readiness). */
  ping(): Promise<void>;
  /** What monitoring reads on each scrape: active sessions, the database pool. */
  monitoring: Monitoring;
}

/** Wires the core from plain parts; nothing here reads the environment or knows about HTTP. */
export function createCore(parts: {
  store: Store;
  settings?: CoreSettings;
  clock?: Clock;
  random?: Random;
  hasher?: PasswordHasher;
  /** Encrypts method secrets at rest (see src/core/crypto/secret-box.ts). */
  secrets: SecretBox;
  /** Wakes closed authenticator apps (Web Push); optional. */
  notifier?: DeviceNotifier;
  /**
   * Tells waiting streams and pages that a request changed, across instances (PostgreSQL or
   * Redis); in-process when not given. The caller that made it closes it.
   */
  events?: EventBus;
  /** Places verification calls and sends texts; without it the Phone method is unavailable. */
  telephony?: Telephony;
  /** The CAs smartcards must chain to, and their revocation lists; without it no card is accepted. */
  smartcard?: { trust: CertificateTrust; settings?: SmartcardSettings };
  /** Told of audit events and hash times as they happen (Prometheus metrics); optional. */
  observer?: CoreObserver;
}): Core {
  const { store, settings = defaultCoreSettings, clock = systemClock, random = systemRandom } = parts;
  const observer = parts.observer ?? noObserver;
  const hasher = observedHasher(parts.hasher ?? argon2idHasher(), observer);
  const audit = withNotices(auditLog(store, clock, observer), store, clock);
  const events = parts.events ?? inProcessBus();
  const totpContext: TotpContext = {
    store,
    clock,
    random,
    audit,
    secrets: parts.secrets,
    attempts: throttle(store, clock, settings.codeAttempts),
  };
  const appPasswordContext: AppPasswordContext = {
    store,
    clock,
    random,
    hasher,
    audit,
    fingerprint: keyFingerprint(store, parts.secrets, random),
    binds: bindCache(clock, settings.legacyBindCacheSeconds),
  };
  const appContext: AppContext = {
    store,
    clock,
    random,
    audit,
    secrets: parts.secrets,
    settings: settings.push,
    pushFailures: throttle(store, clock, settings.push.failures),
    notifier: parts.notifier,
    events,
  };
  const app = authenticatorApp(appContext);
  const legacyThrottles = {
    limits: { account: settings.accountLockout, client: settings.clientLockout },
  };
  const phone = phoneMethod({
    store,
    clock,
    random,
    audit,
    settings: settings.phone,
    telephony: parts.telephony ?? noTelephony,
    limits: {
      account: throttle(store, clock, settings.phone.perAccount),
      number: throttle(store, clock, settings.phone.perNumber),
      country: throttle(store, clock, {
        maxFailures: settings.phone.perCountryPerDay,
        windowMinutes: 24 * 60,
        lockMinutes: 60,
      }),
    },
    codeAttempts: throttle(store, clock, settings.codeAttempts),
  });
  const smartcard = smartcardMethod({
    store,
    clock,
    random,
    audit,
    settings: parts.smartcard?.settings ?? defaultSmartcardSettings,
    trust: parts.smartcard?.trust,
  });
  const management = methodManagement(store, audit);
  const passkeys = passkeyService({
    store,
    clock,
    random,
    audit,
    settings: settings.passkeys ?? defaultPasskeySettings,
  });
  const sessions = sessionService({ store, clock, audit, lifetime: settings.session });
  const enrolment = selfEnrolment({ store, clock, audit });
  const methods = methodRegistry({
    app: { context: appContext, service: app },
    totp: totpContext,
    phone,
    appPasswords: appPasswordContext,
    smartcard,
    management,
    passkeys,
  });
  const endEverySession = signOutEverywhere({ store, audit, events });
  const passes = temporaryPasses({
    store,
    clock,
    random,
    audit,
    attempts: throttle(store, clock, settings.codeAttempts),
  });
  const flow = signInFlow({
    passes,
    store,
    clock,
    random,
    audit,
    lifetime: settings.session,
    freshMinutes: settings.session.freshMinutes,
    sessions,
    enrolment,
    management,
    smartcard,
    passkeys,
    passkeySettings: settings.passkeys ?? defaultPasskeySettings,
    methods,
    passwordSignIn: signInWithPassword({
      store,
      clock,
      random,
      hasher,
      audit,
      lifetime: settings.session,
      accountThrottle: throttle(store, clock, settings.accountLockout),
      clientThrottle: throttle(store, clock, settings.clientLockout),
    }),
  });
  const applications = applicationService({ store, clock, random, audit, secrets: parts.secrets });
  return {
    clock,
    audit,
    flow,
    appPasswords: {
      create: (account, name, clientAddress) =>
        createAppPassword(appPasswordContext, account, name, clientAddress),
      revoke: (account, id, actor, clientAddress) =>
        revokeAppPassword(appPasswordContext, account, id, actor, clientAddress),
    },
    legacySignIn: legacySignIn({ ...appPasswordContext, ...legacyThrottles }),
    legacyPasswordAndPush: legacyPasswordAndPush({
      ...appPasswordContext,
      ...legacyThrottles,
      requestApproval: (account, clientAddress, application) =>
        app.requestApproval(account, clientAddress, application),
      phishingResistantRequired: (account) =>
        groupRequiresPhishingResistant(settings.passkeys ?? defaultPasskeySettings, account),
    }),
    directory: directoryService({ store, clock, audit, bindFailures: settings.accountLockout }),
    methods: management,
    applications,
    phone,
    smartcard,
    passkeys: { newState: passkeys.newState },
    singleSignOn: singleSignOnService({ store, clock }),
    accounts: accountService({ store, clock, hasher, audit }),
    sessions,
    enrolment,
    authenticatorApp: app,
    totp: {
      verifyCode: (account, code, clientAddress) => verifyCode(totpContext, account, code, clientAddress),
      pendingStandardApp: (account, issuer, session) =>
        pendingStandardApp(totpContext, account, issuer, session.idHash),
    },
    signingKeys: signingKeys({ store, secrets: parts.secrets, clock }),
    signOutEverywhere: endEverySession,
    ownAccount: {
      password: changePassword({
        store,
        clock,
        hasher,
        audit,
        signOutEverywhere: endEverySession,
        freshMinutes: settings.session.freshMinutes,
      }),
      signIns: signInHistory({ store, clock, audit, signOutEverywhere: endEverySession }),
      nudge: registrationNudge({ store, clock, audit, settings: settings.nudge ?? defaultNudgeSettings }),
    },
    passwordReset: passwordReset({
      store,
      clock,
      random,
      hasher,
      audit,
      methods,
      smartcard,
      signOutEverywhere: endEverySession,
    }),
    notices: noticeOutbox(store, clock),
    console: operatorConsole({
      store,
      clock,
      audit,
      enrolment,
      management,
      passes,
      signOutEverywhere: endEverySession,
      applications,
      requirePhishingResistant: (settings.passkeys ?? defaultPasskeySettings).requirePhishingResistant
        .console,
    }),
    passes: { sweep: passes.sweep },
    ping: () => store.ping(),
    monitoring: monitoring(store, clock),
  };
}

export { GatehouseError, isGatehouseError } from './errors.ts';
export type { Account, AuditEvent, Group, Session } from './model.ts';

import type { Account, Session } from './model.ts';
