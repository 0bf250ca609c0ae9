/**
 * One catalogue of error codes for the whole core. Codes are stable (operators and tests rely on
 * them). Each carries the HTTP status a web answer uses and whether its words may be shown to the
 * person who caused it (`shown: false`: the web layer shows a generic message instead, so that the
 * code tells an attacker nothing, e.g. which accounts exist). The words themselves live in the web
 * and CLI layers, keyed by code.
 */
const catalogue = {
  invalid_input: { status: 400, shown: true },
  invalid_credentials: { status: 401, shown: true },
  account_locked: { status: 429, shown: true },
  client_throttled: { status: 429, shown: true },
  account_exists: { status: 409, shown: true },
  account_not_found: { status: 404, shown: false },
  password_too_short: { status: 400, shown: true },
  password_too_long: { status: 400, shown: true },
  password_too_common: { status: 400, shown: true },
  password_matches_email: { status: 400, shown: true },
  mfa_not_allowed_shared_mailbox: { status: 403, shown: true },
  mfa_not_allowed_group: { status: 403, shown: true },
  mfa_already_enabled: { status: 409, shown: true },
  mfa_not_enabled: { status: 403, shown: true },
  group_not_found: { status: 404, shown: true },
  session_expired: { status: 401, shown: true },
  /** The session is not at a stage where this step is allowed (a direct URL, an old tab). */
  flow_step_not_allowed: { status: 403, shown: true },
  /** The change needs a second factor proved recently: prove one, then come back. */
  reverify_required: { status: 403, shown: true },
  /** The session began before MFA (or any method) was set up: sign in again. */
  reauthentication_required: { status: 403, shown: true },
  /** This method has no such step (e.g. an app password is never challenged on the portal). */
  method_step_not_supported: { status: 400, shown: true },
  config_invalid: { status: 500, shown: false },
  database_unreachable: { status: 503, shown: false },
  activation_not_found: { status: 404, shown: true },
  activation_expired: { status: 410, shown: true },
  activation_used: { status: 409, shown: true },
  device_not_found: { status: 404, shown: true },
  request_not_found: { status: 404, shown: true },
  bad_signature: { status: 401, shown: true },
  stale_signature: { status: 401, shown: true },
  request_already_answered: { status: 409, shown: true },
  request_expired: { status: 410, shown: true },
  push_blocked: { status: 429, shown: true },
  no_push_device: { status: 404, shown: true },
  too_many_attempts: { status: 429, shown: true },
  invalid_code: { status: 400, shown: true },
  method_not_found: { status: 404, shown: true },
  app_password_name_taken: { status: 409, shown: true },
  app_password_name_invalid: { status: 400, shown: true },
  too_many_app_passwords: { status: 409, shown: true },
  last_method: { status: 409, shown: true },
  application_exists: { status: 409, shown: true },
  application_not_found: { status: 404, shown: true },
  /** A public application (PKCE only) has no client secret to rotate. */
  application_public: { status: 409, shown: true },
  /** Another operator changed the application at the same moment (two rotations: one wins). */
  application_changed: { status: 409, shown: true },
  phone_invalid: { status: 400, shown: true },
  phone_not_mobile: { status: 400, shown: true },
  phone_country_not_allowed: { status: 400, shown: true },
  phone_blocked: { status: 429, shown: true },
  phone_unavailable: { status: 503, shown: true },
  certificate_missing: { status: 400, shown: true },
  certificate_invalid: { status: 400, shown: true },
  certificate_untrusted: { status: 400, shown: true },
  certificate_expired: { status: 400, shown: true },
  certificate_not_yet_valid: { status: 400, shown: true },
  certificate_wrong_usage: { status: 400, shown: true },
  certificate_revoked: { status: 400, shown: true },
  certificate_revocation_unknown: { status: 400, shown: true },
  certificate_not_mapped: { status: 400, shown: true },
  certificate_already_bound: { status: 409, shown: true },
  certificate_ticket_invalid: { status: 400, shown: true },
  certificate_binding_not_found: { status: 404, shown: true },
  /** An imported password hash is malformed, of an unsupported scheme or too weak (details.reason). */
  password_hash_invalid: { status: 400, shown: true },
  /** Changing the password needs a registered second factor (there is none). */
  second_factor_required: { status: 403, shown: true },
  current_password_wrong: { status: 400, shown: true },
  password_unchanged: { status: 400, shown: true },
  /** A forgotten-password reset that is unknown, expired, finished, or of another browser. */
  reset_invalid: { status: 400, shown: true },
  /** A reset step taken before the steps it needs (a password before two factors). */
  reset_step_not_allowed: { status: 403, shown: true },
  /** Too many resets started from one address, or for one email address: wait, then try again. */
  reset_throttled: { status: 429, shown: true },
  /** The account has fewer than two second factors: only the service desk can help. */
  reset_needs_service_desk: { status: 403, shown: true },
  /** The registration nudge was put off as often as allowed. */
  nudge_snoozes_used: { status: 409, shown: true },
  /** The operator console (issue 13). */
  console_read_only: { status: 403, shown: true },
  console_reason_required: { status: 400, shown: true },
  search_too_long: { status: 400, shown: true },
  temporary_pass_lifetime: { status: 400, shown: true },
  review_date_past: { status: 400, shown: true },
  exemption_owner_required: { status: 400, shown: true },
  /** A pass that is wrong, used up, expired or replaced: one answer for all, nothing told apart. */
  temporary_pass_invalid: { status: 401, shown: true },
  /** A console filter that is not one (too long, an unknown event type, not a date); details.field. */
  console_filter_invalid: { status: 400, shown: true },
  /** A time range whose end is before its start (or longer than a report covers). */
  time_range_invalid: { status: 400, shown: true },
  /** Passkeys (issue 15): each refusal says what went wrong, and is audited. */
  passkey_challenge_used: { status: 409, shown: true },
  passkey_challenge_other_session: { status: 403, shown: true },
  passkey_challenge_invalid: { status: 400, shown: true },
  passkey_wrong_site: { status: 400, shown: true },
  passkey_not_recognised: { status: 404, shown: true },
  passkey_other_account: { status: 403, shown: true },
  passkey_cloned: { status: 403, shown: true },
  passkey_rejected: { status: 400, shown: true },
  passkey_model_not_allowed: { status: 403, shown: true },
  passkey_already_registered: { status: 409, shown: true },
  /** An operator requires a phishing-resistant method (passkey or smartcard) for this account or application. */
  phishing_resistant_required: { status: 403, shown: true },
  /** Too many `Sign in with a passkey` challenges asked from one address: wait, then try again. */
  passkey_requests_throttled: { status: 429, shown: true },
  /** Too many refused passkey answers for the account, or (before sign-in) from one address: wait. */
  passkey_attempts_throttled: { status: 429, shown: true },
  /** A passkey challenge asked for an account that has no active passkey (none is offered). */
  passkey_not_registered: { status: 404, shown: true },
} as const satisfies Record<string, { status: number; shown: boolean }>;

export type ErrorCode = keyof typeof catalogue;

export const ErrorCodes = Object.keys(catalogue) as ErrorCode[];

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  /** Extra facts for the caller (never secrets): e.g. when a lockout ends. */
  readonly details: Readonly<Record<string, unknown>>;
  /** The HTTP status a web answer to this error uses. */
  readonly status: number;
  /** Whether the words for this code may be shown to the person (see the catalogue). */
  readonly shown: boolean;

  constructor(code: ErrorCode, message?: string, details: Record<string, unknown> = {}) {
    super(message ?? code);
    this.name = 'GatehouseError';
    this.code = code;
    this.details = details;
    this.status = catalogue[code].status;
    this.shown = catalogue[code].shown;
  }
}

export function isGatehouseError(value: unknown, code?: ErrorCode): value is GatehouseError {
  return value instanceof GatehouseError && (code === undefined || value.code === code);
}

/** Why the database could not serve a request (for the operator's log; the user sees one page). */
export type OutageReason = 'unreachable' | 'connection_lost' | 'disk_full' | 'busy' | 'io_error';

/**
 * The database did not answer: PostgreSQL is restarting, failing over or dropped the connection,
 * or SQLite's disk is full or failing. Nothing is half-written (a transaction commits whole or
 * not at all; only a lost COMMIT leaves which of the two unknown); the same request will work once the database is back, so people are told
 * to try again in a moment (HTTP 503 with Retry-After) and /readyz says not ready meanwhile.
 *
 * Deliberately not a GatehouseError: routes catch GatehouseError to show its words in a form, and
 * an outage must never read as "the password is not correct". It reaches the error handler instead.
 */
export class DatabaseUnavailableError extends Error {
  readonly code = 'database_unavailable';
  readonly status = 503;
  /** What Retry-After says: a restart or failover usually takes a few seconds. */
  readonly retryAfterSeconds = 5;
  readonly reason: OutageReason;

  constructor(reason: OutageReason, cause: unknown) {
    super(`the database is unavailable (${reason}): ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    });
    this.name = 'DatabaseUnavailableError';
    this.reason = reason;
  }
}

export function isDatabaseUnavailable(value: unknown): value is DatabaseUnavailableError {
  return value instanceof DatabaseUnavailableError;
}
