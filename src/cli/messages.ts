import type { ErrorCode } from '../core/errors.ts';

/** What the command line says for each error code. */
export const cliMessages: Partial<Record<ErrorCode, string>> = {
  account_exists: 'an account with this email address already exists',
  account_not_found: 'there is no account with this email address',
  password_too_short: 'the password must be at least 8 characters long',
  password_too_long: 'the password must be at most 256 characters long',
  password_too_common: 'the password is one of the most common passwords; choose another',
  password_matches_email: 'the password must not be the email address',
  invalid_input: 'the input is not valid',
  application_not_found: 'there is no application with this client_id',
  application_exists: 'an application with this client_id already exists',
  application_changed:
    'the application was changed at the same moment by someone else: look at it again (apps list)',
  application_public: 'the application is public (PKCE only): it has no client secret to rotate',
  certificate_invalid: 'the file does not hold a readable certificate',
  certificate_untrusted: 'the certificate was not issued by a trusted CA (smartcard.trustedCaFile)',
  certificate_expired: 'the certificate has expired',
  certificate_not_yet_valid: 'the certificate is not valid yet',
  certificate_wrong_usage: 'the certificate is not for client authentication (extended key usage)',
  certificate_revoked: 'the certificate has been revoked',
  certificate_revocation_unknown:
    "the certificate's revocation could not be checked (no current CRL for its issuer)",
  certificate_already_bound: 'the certificate is already bound to an account',
  certificate_binding_not_found: 'there is no such smartcard binding for this account (see certs list)',
  password_hash_invalid: 'the password_hash cannot be used',
  console_read_only: 'an auditor cannot change anything',
  console_reason_required: 'give --reason "<text>" (at most 500 characters): it is kept in the audit log',
  search_too_long:
    'the search is too long: give the start of an email address or name (at most 254 characters)',
  review_date_past: '--review-date must be a date in the future (at most 2 years ahead), as YYYY-MM-DD',
  exemption_owner_required: 'give --owner "<who answers for it>" (at most 200 characters)',
  temporary_pass_lifetime: '--lifetime must be a whole number of minutes from 10 to 480 (8 hours)',
  console_filter_invalid:
    'a filter is not valid: --account and --operator at most 254 characters, --type an event type, --from and --to dates as YYYY-MM-DD',
  time_range_invalid: '--to must be after --from (a report covers at most 92 days)',
};
