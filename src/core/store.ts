import type {
  Account,
  AccountExemption,
  Activation,
  Application,
  AppPassword,
  AuditEvent,
  AuditEventInput,
  CertificateBinding,
  CertificateTicket,
  ConsoleRole,
  ExemptionTerms,
  Group,
  MfaMethod,
  NewAccount,
  Notice,
  PasskeyChallenge,
  PasskeyCredential,
  PasswordReset,
  PhoneChallenge,
  PushRequest,
  PushStatus,
  RegistrationNudge,
  ResetFactor,
  Session,
  SessionStage,
  SigningKey,
  TemporaryPass,
  ThrottleState,
} from './model.ts';

/**
 * The one storage interface the core depends on. Both engines (SQLite, PostgreSQL) implement it
 * with the same code; see src/store. Methods that change one-time state are single conditional
 * statements, so that only one of several concurrent callers can win.
 */
export interface Store {
  readonly accounts: AccountStore;
  readonly groups: GroupStore;
  readonly sessions: SessionStore;
  readonly throttle: ThrottleStore;
  readonly audit: AuditStore;
  readonly methods: MethodStore;
  readonly secrets: SecretStore;
  readonly activations: ActivationStore;
  readonly pushRequests: PushRequestStore;
  readonly appPasswords: AppPasswordStore;
  readonly applications: ApplicationStore;
  readonly oidcModels: OidcModelStore;
  readonly signingKeys: SigningKeyStore;
  readonly phoneChallenges: PhoneChallengeStore;
  readonly certificateBindings: CertificateBindingStore;
  readonly certificateTickets: CertificateTicketStore;
  readonly notices: NoticeStore;
  readonly passwordResets: PasswordResetStore;
  readonly nudges: NudgeStore;
  readonly roles: RoleStore;
  readonly temporaryPasses: TemporaryPassStore;
  readonly exemptions: ExemptionStore;
  /** The console's registration report: SQL aggregates over the accounts, never all loaded. */
  readonly reports: ReportStore;
  readonly passkeys: PasskeyStore;
  /** Runs `work` atomically: everything it writes lands, or nothing does. */
  transaction<T>(work: (store: Store) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  /** The connection pool's use (PostgreSQL); undefined for an embedded database. */
  connections(): ConnectionUse | undefined;
  close(): Promise<void>;
}

export interface ConnectionUse {
  /** Connections open, idle among them, and requests waiting for one. */
  open: number;
  idle: number;
  waiting: number;
  max: number;
}

export interface AccountStore {
  /** Throws GatehouseError `account_exists` when the email is taken. */
  insert(account: NewAccount): Promise<void>;
  findByEmail(email: string): Promise<Account | undefined>;
  findById(id: string): Promise<Account | undefined>;
  list(page?: { limit: number; offset: number }): Promise<Account[]>;
  /** Up to `limit` accounts in email order after `afterEmail` (keyset paging: flat at any size). */
  listAfter(afterEmail: string | null, limit: number): Promise<Account[]>;
  /**
   * Adds many accounts in a few multi-row statements, with their groups and memberships; an
   * account whose email is taken (in the database, or earlier in the same list) is skipped and
   * writes nothing. Returns the emails added. Groups named in `knownGroups` are taken to exist
   * already (a bulk import's earlier batches made them).
   */
  insertMany(accounts: readonly NewAccount[], knownGroups?: ReadonlySet<string>): Promise<Set<string>>;
  /** Which of these emails already name an account. */
  existingEmails(emails: readonly string[]): Promise<Set<string>>;
  /** Removes the account with its sessions, memberships and methods; false when none existed. */
  remove(id: string): Promise<boolean>;
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
  /** Enables MFA unless already enabled; true only for the caller that changed it. */
  enableMfa(id: string, at: Date): Promise<boolean>;
  /**
   * Accounts whose email, or whose name (ignoring case), starts with `prefix`, in email order:
   * two index range scans (see migration 0013), so as fast with 1,500,000 accounts as with 10.
   */
  search(prefix: string, limit: number, offset: number): Promise<Account[]>;
  /** Disables (a date) or re-enables (null) the account; true when it changed. */
  setDisabled(id: string, at: Date | null): Promise<boolean>;
}

export interface GroupStore {
  find(name: string): Promise<Group | undefined>;
  findMany(names: readonly string[]): Promise<Group[]>;
  /** Creates the group when missing, then sets its exclusion from MFA self-enrolment. */
  setMfaExclusion(name: string, excluded: boolean, message: string | null): Promise<void>;
  /** The register's terms of an excluded group (null: none recorded). */
  setExemptionTerms(name: string, terms: ExemptionTerms | null): Promise<void>;
  list(): Promise<Group[]>;
}

export interface SessionStore {
  insert(session: Session): Promise<void>;
  find(idHash: string): Promise<Session | undefined>;
  touch(idHash: string, lastSeenAt: Date, idleExpiresAt: Date): Promise<void>;
  /**
   * Moves a session from stage `from` to a new state (and a new token hash) in one conditional
   * update: of concurrent promotions exactly one wins (true). Only the sign-in flow calls it.
   */
  move(
    idHash: string,
    from: SessionStage,
    to: Pick<Session, 'idHash' | 'stage' | 'factors' | 'mfaProvedAt' | 'returnTo'>,
  ): Promise<boolean>;
  /** The session's own pending records (activations, pushes, calls) follow it to a new token hash. */
  carryRecords(fromIdHash: string, toIdHash: string): Promise<void>;
  setFlash(idHash: string, flash: string | null): Promise<void>;
  setReturnTo(idHash: string, returnTo: string | null): Promise<void>;
  /** Returns the flash message and clears it in one step. */
  takeFlash(idHash: string): Promise<string | null>;
  remove(idHash: string): Promise<void>;
  removeExpired(now: Date): Promise<number>;
  /** Ends every session of the account, but `except` when given (the one that made the change). */
  removeAllForAccount(accountId: string, except?: string): Promise<number>;
  /** Sessions not yet expired at `now`, by stage (monitoring). */
  countActive(now: Date): Promise<Partial<Record<SessionStage, number>>>;
  /** The account's sessions, newest first (the operator console shows the active ones). */
  listForAccount(accountId: string): Promise<Session[]>;
}

export interface ThrottleStore {
  /**
   * Counts one failure for `key` atomically. A window older than `windowStart` restarts at 1.
   * Returns the state after counting.
   */
  countFailure(key: string, now: Date, windowStart: Date): Promise<ThrottleState>;
  /**
   * Reserves one attempt for `key` in one conditional statement, before the attempt is evaluated.
   * A locked key is left as it is (nothing counted); a window older than `windowStart`, or a
   * lock that has ended, starts a fresh count at 1; otherwise the count goes up by one. Returns
   * the state after the reservation: its `failures` is this attempt's place in the window.
   */
  reserveAttempt(key: string, now: Date, windowStart: Date): Promise<ThrottleState>;
  /**
   * Locks `key` until `until` when the window that began at `windowStartedAt` still stands (no
   * success cleared it since) and its count has reached `maxFailures`; a later lock is kept.
   * Returns the lock's end, or null when the key was not locked.
   */
  lockIfReached(key: string, windowStartedAt: Date, maxFailures: number, until: Date): Promise<Date | null>;
  /** Gives one reserved attempt back, if the window it was counted in still stands. */
  giveBack(key: string, windowStartedAt: Date): Promise<void>;
  lock(key: string, until: Date): Promise<void>;
  get(key: string): Promise<ThrottleState | undefined>;
  clear(key: string): Promise<void>;
}

export interface AuditStore {
  append(event: AuditEventInput & { at: Date }): Promise<void>;
  /** Appends many events in a few multi-row statements (bulk import). */
  appendMany(events: readonly (AuditEventInput & { at: Date })[]): Promise<void>;
  list(filter: {
    email?: string;
    limit: number;
    /** Only events at or after this time. */
    since?: Date;
    types?: readonly AuditEvent['type'][];
  }): Promise<AuditEvent[]>;
  find(id: number): Promise<AuditEvent | undefined>;
  /**
   * One page of the console's audit log, newest first: events matching every filter given, with
   * ids below `cursor.before` (the next, older page) or above `cursor.after` (the newer page):
   * keyset paging, as fast on the millionth page as on the first.
   */
  page(filter: AuditFilter, cursor: AuditCursor, limit: number): Promise<AuditEvent[]>;
  /**
   * Events of these types in [from, to), counted by UTC day and type, with the few detail fields
   * a sign-in step's method depends on (see signInStepOf): one grouped query, no events loaded.
   */
  countByDay(filter: {
    from: Date;
    to: Date;
    types: readonly AuditEvent['type'][];
  }): Promise<AuditDayCount[]>;
}

/** The console's filters of the audit log (each optional; all given must match). */
export interface AuditFilter {
  /** The account the event is about (its email). */
  email?: string | undefined;
  types?: readonly AuditEvent['type'][] | undefined;
  /** Who did it: an operator's email, `cli`. */
  actor?: string | undefined;
  /** At or after. */
  from?: Date | undefined;
  /** Before. */
  to?: Date | undefined;
}

export type AuditCursor = { before?: number | undefined; after?: number | undefined };

export interface AuditDayCount {
  /** YYYY-MM-DD, UTC. */
  day: string;
  type: AuditEvent['type'];
  /**
   * What signInStepOf reads of the detail: `challenge` as its kind only (`push:`), `factors` as
   * ['sms'] or [], `protocol` as 'legacy' when present, and `reason`, `channel`, `credential`.
   */
  detail: Record<string, unknown>;
  count: number;
}

/**
 * Who has what, as the registration report counts it. method:<kind>: an active method of that
 * kind (smartcard: a bound certificate); exempt: an exemption of its own or an excluded group's
 * that still counts (review date not passed), shared mailboxes aside; none: no method and no
 * smartcard yet, not exempt, not a shared mailbox.
 */
export type RegistrationCategory =
  | 'all'
  | 'mfa_enabled'
  | 'mfa_not_enabled'
  | 'method:authenticator_app'
  | 'method:totp'
  | 'method:phone'
  | 'method:smartcard'
  | 'method:passkey'
  | 'exempt'
  | 'shared_mailbox'
  | 'none';

/** An account as a report lists it. */
export interface ReportAccount {
  email: string;
  displayName: string;
  mfaEnabled: boolean;
  disabled: boolean;
}

export interface GroupRegistration {
  group: string;
  /** The group's own exclusion from MFA still counts. */
  excluded: boolean;
  members: number;
  counts: Record<'mfa_enabled' | 'registered' | 'exempt' | 'none', number>;
}

export interface ReportStore {
  /** How many accounts are in each category at `now` (exemptions lapse at their review date). */
  countRegistration(
    categories: readonly RegistrationCategory[],
    now: Date,
    group?: string,
  ): Promise<Record<RegistrationCategory, number>>;
  /** The accounts in a category (of a group when given), in email order after `afterEmail`. */
  listRegistration(
    category: RegistrationCategory,
    now: Date,
    options: { group?: string | undefined; afterEmail?: string | undefined; limit: number },
  ): Promise<ReportAccount[]>;
  /** Groups in name order after `afterName`, each with its members' counts. */
  groupRegistration(now: Date, afterName: string | undefined, limit: number): Promise<GroupRegistration[]>;
}

/** Registered authentication methods (the authenticator app, phones...). */
export interface MethodStore {
  /**
   * Registered methods (active, and suspended ones): their count decides whether sign-in asks for
   * MFA or for registration, so suspending the last method never lets a password alone register one.
   */
  countForAccount(accountId: string): Promise<number>;
  insert(method: MfaMethod): Promise<void>;
  find(id: string): Promise<MfaMethod | undefined>;
  listForAccount(accountId: string): Promise<MfaMethod[]>;
  /** pending -> active; true only for the caller that changed it. */
  activate(id: string): Promise<boolean>;
  /** active -> suspended (it no longer proves anything); true only for the caller that changed it. */
  suspend(id: string): Promise<boolean>;
  remove(id: string): Promise<boolean>;
  touch(id: string, at: Date): Promise<void>;
  updateData(id: string, data: Record<string, unknown>): Promise<void>;
  /** Makes `id` the account's default method and no other. */
  setDefault(accountId: string, id: string): Promise<void>;
  removeAllForAccount(accountId: string): Promise<number>;
  /** Records a TOTP step as used unless it, or a later one, already was; true only for the winner. */
  claimStep(id: string, step: number): Promise<boolean>;
}

export interface ActivationStore {
  insert(activation: Activation): Promise<void>;
  find(codeHash: string): Promise<Activation | undefined>;
  /** Binds the activation to a device once, before it expires; true only for the winner. */
  claim(codeHash: string, deviceId: string, now: Date): Promise<boolean>;
  latestForSession(sessionHash: string): Promise<Activation | undefined>;
}

export interface PushRequestStore {
  /**
   * Inserts the request unless `maxPending` of its account's requests are already pending and
   * unexpired at `now`: one conditional insert, serialised per account, so that of concurrent
   * callers (on any number of instances) no more than `maxPending` win. True when inserted.
   */
  insertWithinLimit(request: PushRequest, maxPending: number, now: Date): Promise<boolean>;
  find(id: string): Promise<PushRequest | undefined>;
  pendingForDevice(deviceId: string, now: Date): Promise<PushRequest[]>;
  pendingForAccount(accountId: string, now: Date): Promise<PushRequest[]>;
  latestForSession(sessionHash: string, purpose: PushRequest['purpose']): Promise<PushRequest | undefined>;
  latestForAccount(accountId: string): Promise<PushRequest | undefined>;
  /**
   * Closes a pending, unexpired request with `status`: one conditional update, so of concurrent
   * answers exactly one wins (true) and the rest lose (false).
   */
  answer(id: string, status: Exclude<PushStatus, 'pending'>, now: Date): Promise<boolean>;
  /** Cancels every pending request of the account; returns those it cancelled. */
  cancelPendingForAccount(
    accountId: string,
    now: Date,
  ): Promise<Pick<PushRequest, 'id' | 'deviceId' | 'sessionHash'>[]>;
  /** Marks an approved request of `sessionHash` as used to prove a factor: true only once. */
  consume(id: string, sessionHash: string, now: Date): Promise<boolean>;
}

/** Server secrets shared by every instance on one database (e.g. the cookie-signing key). */
export interface SecretStore {
  /** Returns the stored value, storing `candidate` first when there is none (first writer wins). */
  getOrCreate(name: string, candidate: string): Promise<string>;
}

export interface AppPasswordStore {
  /**
   * Stores it with its key's fingerprint (a keyed MAC, see the app-password method). Throws
   * GatehouseError `app_password_name_taken` when the account has one of that name.
   */
  insert(appPassword: AppPassword, keyFingerprint: string): Promise<void>;
  listForAccount(accountId: string): Promise<AppPassword[]>;
  /** The app password whose key has this fingerprint, of whichever account. */
  findByFingerprint(keyFingerprint: string): Promise<AppPassword | undefined>;
  remove(accountId: string, id: string): Promise<boolean>;
  recordUse(id: string, at: Date, protocol: string, address: string): Promise<void>;
  removeAllForAccount(accountId: string): Promise<number>;
}

/** How strong every sign-in to an application must be, whatever the application asks for. */
export type SignInRequirements = Pick<Application, 'requireMfa' | 'requirePhishingResistant'>;

export interface ApplicationStore {
  /** Throws GatehouseError `application_exists` when the client id is taken. */
  insert(application: Application): Promise<void>;
  find(clientId: string): Promise<Application | undefined>;
  list(): Promise<Application[]>;
  remove(clientId: string): Promise<boolean>;
  /** Sets how strong every sign-in to it must be; false if there is no such application. */
  setRequirements(clientId: string, requirements: SignInRequirements): Promise<boolean>;
  /**
   * Replaces a confidential application's sealed secret if it is still `expected`; false if it
   * is not (another rotation won) or there is no such application.
   */
  replaceSecret(clientId: string, expected: string, secretSealed: string, at: Date): Promise<boolean>;
}

/** One stored document of the OpenID provider (a session, code, token, grant, interaction...). */
export interface OidcModel {
  payload: Record<string, unknown>;
  grantId?: string | undefined;
  userCode?: string | undefined;
  uid?: string | undefined;
  expiresAt: Date | null;
  consumedAt?: Date | null;
  /** The account it is about (sessions, grants, tokens), when the payload names one. */
  accountId?: string | undefined;
  /** The application it was issued to (grants, codes, tokens), when the payload names one. */
  clientId?: string | undefined;
}

export interface OidcModelStore {
  upsert(model: string, id: string, record: OidcModel): Promise<void>;
  find(model: string, id: string): Promise<OidcModel | undefined>;
  findByUid(model: string, uid: string): Promise<{ id: string; record: OidcModel } | undefined>;
  findByUserCode(model: string, userCode: string): Promise<{ id: string; record: OidcModel } | undefined>;
  /** Marks it consumed once; true only for the first caller (a code is exchanged once). */
  consume(model: string, id: string, at: Date): Promise<boolean>;
  destroy(model: string, id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
  removeExpired(now: Date): Promise<number>;
  /** Removes every record about the account (its sessions, grants, codes and tokens). */
  removeAllForAccount(accountId: string): Promise<number>;
  /** Removes every record issued to the application (its grants, codes and tokens). */
  removeAllForClient(clientId: string): Promise<number>;
}

export interface SigningKeyStore {
  insert(key: SigningKey): Promise<void>;
  /** Newest first. */
  list(): Promise<SigningKey[]>;
  remove(kid: string): Promise<void>;
}

export interface PhoneChallengeStore {
  insert(challenge: PhoneChallenge): Promise<void>;
  find(id: string): Promise<PhoneChallenge | undefined>;
  latestForSession(
    sessionHash: string,
    purpose: PhoneChallenge['purpose'],
  ): Promise<PhoneChallenge | undefined>;
  /** Closes a pending challenge once; true only for the caller that closed it. */
  settle(id: string, status: Exclude<PhoneChallenge['status'], 'pending'>, at: Date): Promise<boolean>;
  /** Marks a confirmed challenge of `sessionHash` as used to prove a factor: true only once. */
  consume(id: string, sessionHash: string, at: Date): Promise<boolean>;
}

export interface CertificateBindingStore {
  /** Throws GatehouseError `certificate_already_bound` when the certificate is bound already. */
  insert(binding: CertificateBinding): Promise<void>;
  findByIssuerSerial(issuer: string, serial: string): Promise<CertificateBinding | undefined>;
  listForAccount(accountId: string): Promise<CertificateBinding[]>;
  remove(accountId: string, id: string): Promise<boolean>;
  recordUse(id: string, at: Date): Promise<void>;
}

export interface CertificateTicketStore {
  insert(ticket: CertificateTicket): Promise<void>;
  /**
   * Removes the ticket and returns it when it has not expired: one statement, so of concurrent
   * redemptions exactly one gets it.
   */
  take(idHash: string, now: Date): Promise<CertificateTicket | undefined>;
  removeExpired(now: Date): Promise<number>;
}

/** Security notices waiting for the mail server: each is claimed by one sender at a time. */
export interface NoticeStore {
  insert(notice: Notice): Promise<void>;
  /**
   * Claims up to `limit` unsent notices due at `now` for `leaseMs` (one conditional update per
   * notice, so of several instances only one sends each); a sender that dies loses its lease.
   */
  claimDue(now: Date, leaseMs: number, limit: number): Promise<Notice[]>;
  markSent(id: string, at: Date): Promise<void>;
  /** Gives the notice back to be tried again at `retryAt`. */
  markFailed(id: string, error: string, retryAt: Date): Promise<void>;
  listForEmail(email: string): Promise<Notice[]>;
}

export interface PasswordResetStore {
  insert(reset: PasswordReset): Promise<void>;
  find(idHash: string): Promise<PasswordReset | undefined>;
  /**
   * Adds a proved factor while the reset is open and has exactly `had`: one conditional update,
   * so a factor is counted once and steps cannot race. True for the winner.
   */
  addFactor(idHash: string, had: readonly ResetFactor[], factor: ResetFactor, now: Date): Promise<boolean>;
  /** Closes an open, unexpired reset once; true only for the caller that closed it. */
  complete(idHash: string, now: Date): Promise<boolean>;
  /** Deletes the resets that have expired, finished or not; returns how many. */
  removeExpired(now: Date): Promise<number>;
}

export interface NudgeStore {
  find(accountId: string): Promise<RegistrationNudge | undefined>;
  /** Counts one more `Not now` unless `maxSnoozes` were used already; true when counted. */
  snooze(accountId: string, until: Date, maxSnoozes: number): Promise<boolean>;
}

export interface RoleStore {
  set(accountId: string, role: ConsoleRole, at: Date, grantedBy: string): Promise<void>;
  /** True when the account had a role. */
  remove(accountId: string): Promise<boolean>;
  find(accountId: string): Promise<ConsoleRole | undefined>;
}

export interface TemporaryPassStore {
  /** Stores the account's pass in place of any earlier one; true when one was replaced. */
  replace(pass: TemporaryPass): Promise<boolean>;
  find(accountId: string): Promise<TemporaryPass | undefined>;
  /**
   * Counts one use of the account's pass with this hash in one conditional update: only while it
   * has not expired, and for a one-time pass only if it was never used, so of concurrent uses of a
   * one-time pass exactly one wins (true). Records the session that used it.
   */
  claim(accountId: string, passHash: string, now: Date, sessionHash: string): Promise<boolean>;
  remove(accountId: string): Promise<boolean>;
  /** Removes passes expired at `now` (and used one-time passes); returns their account ids. */
  removeFinished(now: Date): Promise<{ accountId: string; expired: boolean }[]>;
}

export interface ExemptionStore {
  /** Sets (or renews) the account's own exemption. */
  set(exemption: AccountExemption): Promise<void>;
  remove(accountId: string): Promise<boolean>;
  find(accountId: string): Promise<AccountExemption | undefined>;
  /** Every account exemption with its account's email, soonest review first. */
  list(): Promise<(AccountExemption & { email: string })[]>;
}

/** Passkey credentials and the WebAuthn challenges issued for them. */
export interface PasskeyStore {
  insertCredential(credential: PasskeyCredential): Promise<void>;
  findCredential(id: string): Promise<PasskeyCredential | undefined>;
  listCredentials(accountId: string): Promise<PasskeyCredential[]>;
  /**
   * Records the authenticator's new signature counter when it moved forwards (or both are 0, an
   * authenticator without a counter); false when it did not, e.g. a cloned authenticator.
   */
  advanceCounter(id: string, counter: number): Promise<boolean>;
  insertChallenge(challenge: PasskeyChallenge): Promise<void>;
  findChallenge(challenge: string): Promise<PasskeyChallenge | undefined>;
  /**
   * Marks an unexpired, unused challenge of `bindingHash` and `purpose` used: one conditional
   * update, so of concurrent answers exactly one wins.
   */
  claimChallenge(
    challenge: string,
    bindingHash: string,
    purpose: PasskeyChallenge['purpose'],
    now: Date,
  ): Promise<boolean>;
  removeExpiredChallenges(now: Date): Promise<number>;
}
