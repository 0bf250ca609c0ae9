/**
 * One catalogue of error codes for the whole core. Codes are stable (operators and tests rely on
 * them); the words shown to people live in the web and CLI layers, keyed by code.
 */
export const ErrorCodes = [
  'invalid_input',
  'invalid_credentials',
  'account_locked',
  'client_throttled',
  'account_exists',
  'account_not_found',
  'password_too_short',
  'password_too_long',
  'password_too_common',
  'password_matches_email',
  'mfa_not_allowed_shared_mailbox',
  'mfa_not_allowed_group',
  'mfa_already_enabled',
  'group_not_found',
  'session_expired',
  'config_invalid',
  'database_unreachable',
  'activation_not_found',
  'activation_expired',
  'activation_used',
  'device_not_found',
  'request_not_found',
  'bad_signature',
  'stale_signature',
  'request_already_answered',
  'request_expired',
  'push_blocked',
  'no_push_device',
  'too_many_attempts',
  'invalid_code',
  'method_not_found',
  'app_password_name_taken',
  'app_password_name_invalid',
  'too_many_app_passwords',
  'last_method',
  'application_exists',
  'application_not_found',
  'phone_invalid',
  'phone_not_mobile',
  'phone_country_not_allowed',
  'phone_blocked',
  'phone_unavailable',
  'certificate_missing',
  'certificate_invalid',
  'certificate_untrusted',
  'certificate_expired',
  'certificate_not_yet_valid',
  'certificate_wrong_usage',
  'certificate_revoked',
  'certificate_revocation_unknown',
  'certificate_not_mapped',
  'certificate_already_bound',
  'certificate_ticket_invalid',
  'certificate_binding_not_found',
] as const;

export type ErrorCode = (typeof ErrorCodes)[number];

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  /** Extra facts for the caller (never secrets): e.g. when a lockout ends. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message?: string, details: Record<string, unknown> = {}) {
    super(message ?? code);
    this.name = 'GatehouseError';
    this.code = code;
    this.details = details;
  }
}

export function isGatehouseError(value: unknown, code?: ErrorCode): value is GatehouseError {
  return value instanceof GatehouseError && (code === undefined || value.code === code);
}
