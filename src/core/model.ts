/** Plain records the core works with. Times are Date objects; storage converts them. */

export interface Account {
  id: string;
  email: string;
  displayName: string;
  passwordHash: string;
  sharedMailbox: boolean;
  mfaEnabled: boolean;
  mfaEnabledAt: Date | null;
  createdAt: Date;
  groups: string[];
}

export type NewAccount = Omit<Account, 'mfaEnabled' | 'mfaEnabledAt'>;

export interface Group {
  name: string;
  mfaExcluded: boolean;
  exclusionMessage: string | null;
}

/** What a signed-in session may do next: only `complete` sessions reach the portal. */
export type SessionStage = 'complete' | 'register_mfa' | 'verify_mfa';

export interface Session {
  idHash: string;
  accountId: string;
  stage: SessionStage;
  createdAt: Date;
  lastSeenAt: Date;
  idleExpiresAt: Date;
  absoluteExpiresAt: Date;
  flash: string | null;
}

export interface ThrottleState {
  failures: number;
  windowStartedAt: Date;
  lockedUntil: Date | null;
}

export const AuditEventTypes = [
  'signin.succeeded',
  'signin.failed',
  'signin.locked',
  'signin.throttled',
  'signout',
  'session.expired',
  'mfa.enabled',
  'mfa.enrolment_refused',
  'account.added',
  'account.removed',
  'account.password_rehashed',
  'group.mfa_excluded',
  'request.csrf_rejected',
] as const;

export type AuditEventType = (typeof AuditEventTypes)[number];

export interface AuditEventInput {
  type: AuditEventType;
  /** The account the event is about (kept as text so it outlives the account). */
  email?: string | null;
  /** Who did it: the user themselves, `cli`, or an operator. */
  actor?: string | null;
  clientAddress?: string | null;
  detail?: Record<string, unknown>;
}

export interface AuditEvent extends Required<Omit<AuditEventInput, 'detail'>> {
  id: number;
  at: Date;
  detail: Record<string, unknown>;
}
