import type {
  Account,
  AuditEvent,
  AuditEventInput,
  Group,
  NewAccount,
  Session,
  SessionStage,
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
  /** Runs `work` atomically: everything it writes lands, or nothing does. */
  transaction<T>(work: (store: Store) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface AccountStore {
  /** Throws GatehouseError `account_exists` when the email is taken. */
  insert(account: NewAccount): Promise<void>;
  findByEmail(email: string): Promise<Account | undefined>;
  findById(id: string): Promise<Account | undefined>;
  list(page?: { limit: number; offset: number }): Promise<Account[]>;
  /** Removes the account with its sessions, memberships and methods; false when none existed. */
  remove(id: string): Promise<boolean>;
  updatePasswordHash(id: string, passwordHash: string): Promise<void>;
  /** Enables MFA unless already enabled; true only for the caller that changed it. */
  enableMfa(id: string, at: Date): Promise<boolean>;
}

export interface GroupStore {
  find(name: string): Promise<Group | undefined>;
  findMany(names: readonly string[]): Promise<Group[]>;
  /** Creates the group when missing, then sets its exclusion from MFA self-enrolment. */
  setMfaExclusion(name: string, excluded: boolean, message: string | null): Promise<void>;
  list(): Promise<Group[]>;
}

export interface SessionStore {
  insert(session: Session): Promise<void>;
  find(idHash: string): Promise<Session | undefined>;
  touch(idHash: string, lastSeenAt: Date, idleExpiresAt: Date): Promise<void>;
  setStage(idHash: string, stage: SessionStage): Promise<void>;
  setFlash(idHash: string, flash: string | null): Promise<void>;
  /** Returns the flash message and clears it in one step. */
  takeFlash(idHash: string): Promise<string | null>;
  remove(idHash: string): Promise<void>;
  removeExpired(now: Date): Promise<number>;
}

export interface ThrottleStore {
  /**
   * Counts one failure for `key` atomically. A window older than `windowStart` restarts at 1.
   * Returns the state after counting.
   */
  countFailure(key: string, now: Date, windowStart: Date): Promise<ThrottleState>;
  lock(key: string, until: Date): Promise<void>;
  get(key: string): Promise<ThrottleState | undefined>;
  clear(key: string): Promise<void>;
}

export interface AuditStore {
  append(event: AuditEventInput & { at: Date }): Promise<void>;
  list(filter: { email?: string; limit: number }): Promise<AuditEvent[]>;
}

/** Registered authentication methods (the authenticator app, phones...): their count decides the MFA step. */
export interface MethodStore {
  countForAccount(accountId: string): Promise<number>;
}

/** Server secrets shared by every instance on one database (e.g. the cookie-signing key). */
export interface SecretStore {
  /** Returns the stored value, storing `candidate` first when there is none (first writer wins). */
  getOrCreate(name: string, candidate: string): Promise<string>;
}
