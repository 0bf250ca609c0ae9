import type { Generated } from 'kysely';

/** Table shapes as stored. Times are milliseconds since the epoch; booleans are 0/1 integers. */
export interface AccountsTable {
  id: string;
  email: string;
  display_name: string;
  password_hash: string;
  shared_mailbox: number;
  mfa_enabled: number;
  mfa_enabled_at: number | null;
  created_at: number;
  disabled_at: number | null;
}

export interface GroupsTable {
  name: string;
  mfa_excluded: number;
  exclusion_message: string | null;
  exemption_owner?: string | null;
  exemption_reason?: string | null;
  exemption_review_at?: number | null;
}

export interface AccountExemptionsTable {
  account_id: string;
  owner: string;
  reason: string;
  review_at: number;
  created_at: number;
  created_by: string;
}

export interface AccountGroupsTable {
  account_id: string;
  group_name: string;
}

export interface SessionsTable {
  id_hash: string;
  account_id: string;
  stage: string;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  flash: string | null;
  factors: string;
  return_to: string | null;
  mfa_proved_at: number | null;
}

export interface ThrottleTable {
  key: string;
  failures: number;
  window_started_at: number;
  locked_until: number | null;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: number;
  type: string;
  email: string | null;
  actor: string | null;
  client_address: string | null;
  detail: string;
}

export interface MfaMethodsTable {
  id: string;
  account_id: string;
  kind: string;
  label: string;
  created_at: number;
  last_used_at: number | null;
  status: string;
  data: string;
  is_default: number;
  last_step: number | null;
}

export interface SecretsTable {
  name: string;
  value: string;
}

export interface ActivationsTable {
  code_hash: string;
  account_id: string;
  session_hash: string;
  created_at: number;
  expires_at: number;
  device_id: string | null;
  code_sealed: string;
}

export interface PushRequestsTable {
  id: string;
  account_id: string;
  device_id: string;
  purpose: string;
  number: string;
  status: string;
  session_hash: string;
  application: string;
  client_address: string;
  created_at: number;
  expires_at: number;
  answered_at: number | null;
  consumed_at: number | null;
}

export interface AppPasswordsTable {
  id: string;
  account_id: string;
  name: string;
  password_hash: string;
  /** HMAC-SHA256 of the normalised key password under the server's fingerprint key. */
  key_fingerprint: string;
  created_at: number;
  last_used_at: number | null;
  last_used_protocol: string | null;
  last_used_address: string | null;
}

export interface ApplicationsTable {
  client_id: string;
  name: string;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  secret_sealed: string | null;
  require_mfa: number;
  /** 1: every sign-in to it needs a passkey or a smartcard (migration 0018). */
  require_phishing_resistant: number;
  created_at: number;
  launch_url: string | null;
  /** When its client secret was last rotated (null: never since it was added). */
  secret_rotated_at: number | null;
}

export interface OidcModelsTable {
  model: string;
  id: string;
  payload: string;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  expires_at: number | null;
  consumed_at: number | null;
  /** The account the record is about (payload.accountId), for signing it out everywhere. */
  account_id: string | null;
  /** The application it was issued to (payload.clientId), for removing an application. */
  client_id: string | null;
}

export interface SigningKeysTable {
  kid: string;
  private_jwk_sealed: string;
  created_at: number;
}

export interface PhoneChallengesTable {
  id: string;
  account_id: string;
  method_id: string;
  purpose: string;
  channel: string;
  code_hash: string | null;
  status: string;
  session_hash: string;
  created_at: number;
  expires_at: number;
  settled_at: number | null;
  consumed_at: number | null;
}

export interface CertificateBindingsTable {
  id: string;
  account_id: string;
  issuer: string;
  serial: string;
  subject: string;
  fingerprint: string;
  not_after: number;
  created_at: number;
  last_used_at: number | null;
}

export interface CertificateTicketsTable {
  id_hash: string;
  purpose: string;
  state_hash: string;
  account_id: string | null;
  certificate: string;
  created_at: number;
  expires_at: number;
}

export interface AccountRolesTable {
  account_id: string;
  role: string;
  granted_at: number;
  granted_by: string;
}

export interface TemporaryPassesTable {
  account_id: string;
  pass_hash: string;
  one_time: number;
  created_at: number;
  expires_at: number;
  created_by: string;
  uses: number;
  last_used_at: number | null;
  last_used_session: string | null;
}

export interface Database {
  accounts: AccountsTable;
  groups: GroupsTable;
  account_groups: AccountGroupsTable;
  sessions: SessionsTable;
  throttle: ThrottleTable;
  audit_events: AuditEventsTable;
  mfa_methods: MfaMethodsTable;
  secrets: SecretsTable;
  activations: ActivationsTable;
  push_requests: PushRequestsTable;
  app_passwords: AppPasswordsTable;
  applications: ApplicationsTable;
  oidc_models: OidcModelsTable;
  signing_keys: SigningKeysTable;
  phone_challenges: PhoneChallengesTable;
  certificate_bindings: CertificateBindingsTable;
  certificate_tickets: CertificateTicketsTable;
  notices: NoticesTable;
  password_resets: PasswordResetsTable;
  registration_nudges: RegistrationNudgesTable;
  account_roles: AccountRolesTable;
  temporary_passes: TemporaryPassesTable;
  account_exemptions: AccountExemptionsTable;
  passkey_credentials: PasskeyCredentialsTable;
  passkey_challenges: PasskeyChallengesTable;
}

/** A security notice waiting to be mailed, or mailed (sent_at). */
export interface NoticesTable {
  id: string;
  email: string;
  kind: string;
  /** JSON: when, from where, what (never a secret); the words are made when it is sent. */
  facts: string;
  created_at: number;
  next_attempt_at: number;
  attempts: number;
  claimed_until: number | null;
  sent_at: number | null;
  last_error: string | null;
}

export interface PasswordResetsTable {
  id_hash: string;
  browser_hash: string;
  account_id: string | null;
  email: string;
  factors: string;
  created_at: number;
  expires_at: number;
  completed_at: number | null;
}

export interface RegistrationNudgesTable {
  account_id: string;
  snoozes: number;
  snoozed_until: number;
}

export interface PasskeyCredentialsTable {
  id: string;
  method_id: string;
  account_id: string;
  public_key: string;
  counter: number;
  transports: string;
  created_at: number;
}

export interface PasskeyChallengesTable {
  challenge: string;
  purpose: string;
  binding_hash: string;
  account_id: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}
