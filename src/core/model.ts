/** Plain records the core works with. Times are Date objects; storage converts them. */

export interface Account {
  id: string;
  email: string;
  displayName: string;
  /**
   * argon2id, or a hash imported from another system until the next sign-in upgrades it; null for
   * an account without a password (it signs in with a smartcard only).
   */
  passwordHash: string | null;
  sharedMailbox: boolean;
  mfaEnabled: boolean;
  mfaEnabledAt: Date | null;
  createdAt: Date;
  groups: string[];
  /** Set while an operator has disabled the account: it signs in nowhere (portal, LDAP, RADIUS). */
  disabledAt?: Date | null;
}

export type NewAccount = Omit<Account, 'mfaEnabled' | 'mfaEnabledAt' | 'disabledAt'>;

/** Console roles: an operator changes things, an auditor only reads. */
export type ConsoleRole = 'operator' | 'auditor';

/**
 * A Temporary Access Pass: lets its user past the second factor only to register a new method.
 * One per account (a new one replaces the old); only the pass's hash is kept.
 */
export interface TemporaryPass {
  accountId: string;
  passHash: string;
  oneTime: boolean;
  createdAt: Date;
  expiresAt: Date;
  createdBy: string;
  uses: number;
  lastUsedAt: Date | null;
}

export interface Group {
  name: string;
  mfaExcluded: boolean;
  exclusionMessage: string | null;
  /** The exemption register: who answers for the exclusion, why, and when it is reviewed. */
  exemption?: ExemptionTerms | null;
}

/**
 * Who answers for an exemption from MFA, why, and when it is reviewed: past that date it stops
 * counting (the members are asked to enrol at their next sign-in) until an operator renews it.
 */
export interface ExemptionTerms {
  owner: string;
  reason: string;
  reviewAt: Date;
}

/** One account exempt from MFA on its own. */
export interface AccountExemption extends ExemptionTerms {
  accountId: string;
  createdAt: Date;
  createdBy: string;
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
  /** Authentication method references (RFC 8176 amr values) this session has proved. */
  factors: string[];
  /** A single sign-on request to go back to once signed in (a path on this portal). */
  returnTo?: string | null;
  /** When this session last proved a second factor; Security info changes need a recent one. */
  mfaProvedAt?: Date | null;
}

export type MethodKind = 'authenticator_app' | 'totp' | 'phone' | 'passkey';
/**
 * `suspended`: no longer usable (a passkey whose signature counter went backwards: it may have been
 * copied); kept, and still counted as registered, so a password alone never reopens registration.
 */
export type MethodStatus = 'pending' | 'active' | 'suspended';

/** A registered way of proving it is the user. `data` is the method's own, secrets encrypted. */
export interface MfaMethod {
  id: string;
  accountId: string;
  kind: MethodKind;
  label: string;
  status: MethodStatus;
  isDefault: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
  data: Record<string, unknown>;
}

/** A one-time code that lets an authenticator app join an account (the QR code on the PC). */
export interface Activation {
  codeHash: string;
  accountId: string;
  sessionHash: string;
  createdAt: Date;
  expiresAt: Date;
  deviceId: string | null;
  /** The code, encrypted with the secrets key (only its hash is looked up). */
  codeSealed: string;
}

/** `approval`: a legacy application's sign-in (a VPN), with no screen to show a number on. */
export type PushPurpose = 'registration' | 'sign_in' | 'approval';
/** `reported`: denied with "No, it's not me" and reported as suspicious. */
export type PushStatus =
  | 'pending'
  | 'approved'
  | 'denied'
  | 'reported'
  | 'wrong_number'
  | 'expired'
  | 'cancelled';

/** A request shown in the authenticator app: the user types the PC's number to approve it. */
export interface PushRequest {
  id: string;
  accountId: string;
  deviceId: string;
  purpose: PushPurpose;
  number: string;
  status: PushStatus;
  sessionHash: string;
  application: string;
  clientAddress: string;
  createdAt: Date;
  expiresAt: Date;
  answeredAt: Date | null;
}

/** A password for one legacy application; only its hash is kept. */
export interface AppPassword {
  id: string;
  accountId: string;
  name: string;
  passwordHash: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  lastUsedProtocol: string | null;
  lastUsedAddress: string | null;
}

/** A smartcard certificate bound to an account, named by its issuer and serial number. */
export interface CertificateBinding {
  id: string;
  accountId: string;
  /** The issuer's distinguished name, as RFC 4514 text. */
  issuer: string;
  /** The serial number in upper-case hexadecimal. */
  serial: string;
  subject: string;
  /** SHA-256 of the certificate's DER, in hexadecimal: what people compare. */
  fingerprint: string;
  notAfter: Date;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** What a card checked at the certificate endpoint is for, once back on the portal. */
/** What a checked card is for: signing in, adding it to an account, or a forgotten password. */
export type CertificateTicketPurpose = 'sign_in' | 'bind' | 'reset';

/**
 * A card checked at the certificate endpoint, handed to the portal once: only the ticket's hash
 * is stored, and it works only with the state the portal gave the same browser.
 */
export interface CertificateTicket {
  idHash: string;
  purpose: CertificateTicketPurpose;
  stateHash: string;
  /** The account the card maps to (sign-in); null when binding. */
  accountId: string | null;
  /** The checked certificate, as JSON of its summary. */
  certificate: string;
  createdAt: Date;
  expiresAt: Date;
}

/** An application that signs its users in through Gatehouse (an OpenID Connect client). */
export interface Application {
  clientId: string;
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** The client secret sealed with the secrets key; null for a public client (PKCE only). */
  secretSealed: string | null;
  /** Every sign-in to it needs MFA, whatever the application asks for. */
  requireMfa: boolean;
  /** Every sign-in to it needs a passkey or a smartcard (phishing-resistant, so also MFA). */
  requirePhishingResistant: boolean;
  /** Where the front page sends a user who selects it (its initiate_login_uri); null: see launchUrlOf. */
  launchUrl: string | null;
  createdAt: Date;
  /** When its client secret was last rotated; null (or absent) if never since it was added. */
  secretRotatedAt?: Date | null;
}

export interface SigningKey {
  kid: string;
  privateJwkSealed: string;
  createdAt: Date;
}

export type PhoneChannel = 'call' | 'sms';
export type PhoneChallengeStatus =
  | 'pending'
  | 'confirmed'
  | 'reported'
  | 'wrong_key'
  | 'no_answer'
  | 'rejected'
  | 'failed'
  | 'expired';

/** One verification call or text message, and how it ended. */
export interface PhoneChallenge {
  id: string;
  accountId: string;
  methodId: string;
  purpose: 'registration' | 'sign_in';
  channel: PhoneChannel;
  /** For texts: the code's hash (argon2 is not needed for a 6-digit, 5-minute, 5-try code). */
  codeHash: string | null;
  status: PhoneChallengeStatus;
  sessionHash: string;
  createdAt: Date;
  expiresAt: Date;
  settledAt: Date | null;
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
  /** Other sessions of the account ended because how it signs in changed (detail.reason). */
  'session.ended',
  /** A session proved a second factor again before changing how the account signs in. */
  'session.stepped_up',
  'mfa.enabled',
  'mfa.enrolment_refused',
  'account.added',
  'account.removed',
  'account.password_rehashed',
  'group.mfa_excluded',
  'request.csrf_rejected',
  'authenticator.activation_started',
  'authenticator.activated',
  'authenticator.registered',
  'authenticator.removed',
  'push.sent',
  'push.approved',
  'push.denied',
  'push.wrong_number',
  'push.reported',
  'push.blocked',
  'push.bad_signature',
  'totp.registered',
  'totp.accepted',
  'totp.rejected',
  'mfa.verified',
  'app_password.created',
  'app_password.revoked',
  'app_password.used',
  'app_password.rejected',
  'legacy.password_refused',
  'legacy.signed_in',
  'mfa.reset',
  'method.removed',
  'method.default_changed',
  'application.added',
  'application.removed',
  'application.secret_rotated',
  'application.requirements_changed',
  'sso.signed_in',
  'sso.refused',
  'keys.rotated',
  'phone.call_placed',
  'phone.text_sent',
  'phone.verified',
  'phone.failed',
  'phone.reported',
  'phone.refused',
  'phone.registered',
  /** A telephony webhook (Twilio's) without a valid signature: refused, nothing changed. */
  'phone.webhook_refused',
  /** Signed in with a smartcard: two factors, possession of the card and its PIN. */
  'smartcard.signed_in',
  /** A card that was not accepted (no certificate, untrusted, expired, revoked, unmapped...). */
  'smartcard.refused',
  'smartcard.bound',
  'smartcard.removed',
  /** A certificate header from an address that is not a trusted proxy: ignored. */
  'smartcard.header_ignored',
  /** The user changed their password (detail.signedOutOthers). */
  'account.password_changed',
  /** A password change was refused (detail.reason: no fresh second factor, wrong current password). */
  'account.password_change_refused',
  /** The password was reset after two factors were proved (forgotten password). */
  'account.password_reset',
  /** A step of a forgotten-password reset was refused (detail.reason). */
  'password_reset.refused',
  /** A second factor was proved towards a forgotten-password reset. */
  'password_reset.factor_proved',
  /** Every portal session, single sign-on session and refresh token of the account ended. */
  'session.ended_everywhere',
  /** The user said a sign-in in My sign-ins was not them. */
  'signin.reported',
  /** The user put off the registration nudge (detail.snoozes). */
  'nudge.snoozed',
  'notice.sent',
  /** A bind as the LDAP service account with a wrong secret (each one; they are throttled). */
  'directory.service_refused',
  /** The service account's searches reached their per-minute limit (once per lock). */
  'directory.search_limited',
  /** What a service account did over a few minutes: binds, searches, entries (one row, not one per search). */
  'directory.searches',
  /** The operator console (issue 13): actor is the operator, email the target, detail.reason theirs. */
  'role.granted',
  'role.revoked',
  'console.account_viewed',
  'temporary_pass.issued',
  'temporary_pass.used',
  'temporary_pass.refused',
  'temporary_pass.revoked',
  'temporary_pass.expired',
  'account.disabled',
  'account.enabled',
  'exemption.set',
  'exemption.removed',
  /** An operator or auditor exported the audit log or a report (detail: what, with the filter). */
  'console.exported',
  /** Passkeys (issue 15): added, accepted at sign-in, refused (detail.reason: the error code). */
  'passkey.registered',
  'passkey.accepted',
  'passkey.refused',
  /** Passkey answers refused unchecked by the attempt limits (detail.scope: account or client). */
  'passkey.throttled',
  /** A passkey suspended (detail.reason: passkey_cloned): it no longer signs in. */
  'passkey.suspended',
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

export type NoticeKind =
  | 'method_added'
  | 'method_removed'
  | 'app_password_created'
  | 'password_changed'
  | 'password_reset'
  | 'signin_reported'
  | 'lockout'
  | 'method_suspended';

export interface NoticeFacts {
  at: string;
  clientAddress: string | null;
  /** The method, app password or application concerned, when there is one. */
  what?: string;
}

/** A security notice to the account's address, queued in the database until the mail server took it. */
export interface Notice {
  id: string;
  email: string;
  kind: NoticeKind;
  /** What the words are made from when it is sent: when, from where, what (never a secret). */
  facts: NoticeFacts;
  createdAt: Date;
  nextAttemptAt: Date;
  attempts: number;
  sentAt: Date | null;
  lastError: string | null;
}

/** The second factors a forgotten-password reset counts: two different ones are needed. */
export type ResetFactor = 'app' | 'phone' | 'smartcard' | 'passkey';

/** A forgotten-password reset in one browser: only hashes of its id and its browser secret are kept. */
export interface PasswordReset {
  idHash: string;
  browserHash: string;
  /** null when the email names no account (the pages look the same). */
  accountId: string | null;
  email: string;
  factors: ResetFactor[];
  createdAt: Date;
  expiresAt: Date;
  completedAt: Date | null;
}

/** How often the user has put off the registration nudge, and until when. */
export interface RegistrationNudge {
  accountId: string;
  snoozes: number;
  snoozedUntil: Date;
}

/** A passkey's public key credential (WebAuthn), one per passkey method. */
export interface PasskeyCredential {
  /** The credential ID, base64url. */
  id: string;
  methodId: string;
  accountId: string;
  /** The COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  createdAt: Date;
}

/** A WebAuthn challenge the portal issued, bound to the session or browser state that asked. */
export interface PasskeyChallenge {
  challenge: string;
  purpose: 'registration' | 'sign_in' | 'passwordless';
  bindingHash: string;
  accountId: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}
