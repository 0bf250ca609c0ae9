import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import type { AuditEventInput, AuditEventType, NoticeKind } from '../model.ts';
import type { Store } from '../store.ts';

/** The audited events the account's owner is told about by email, and what each is. */
const noticeOf: Partial<Record<AuditEventType, NoticeKind>> = {
  'authenticator.registered': 'method_added',
  'totp.registered': 'method_added',
  'phone.registered': 'method_added',
  'smartcard.bound': 'method_added',
  'authenticator.removed': 'method_removed',
  'method.removed': 'method_removed',
  'smartcard.removed': 'method_removed',
  'mfa.reset': 'method_removed',
  'app_password.created': 'app_password_created',
  'account.password_changed': 'password_changed',
  'account.password_reset': 'password_reset',
  'signin.reported': 'signin_reported',
  'push.reported': 'signin_reported',
  'phone.reported': 'signin_reported',
  'signin.locked': 'lockout',
  'passkey.suspended': 'method_suspended',
};

const whatOf = (detail: Record<string, unknown> | undefined): string | undefined => {
  for (const key of ['label', 'name', 'kind']) {
    const value = detail?.[key];
    if (typeof value === 'string' && value.length <= 100) return value;
  }
  return undefined;
};

/**
 * The audit log, which also queues a security notice for the events the owner must hear about.
 * The notice is written with the event (in the same transaction when there is one) to the queue
 * in the database; sending is the mail channel's job, later, so a mail server that is down never
 * delays or fails the change itself.
 */
export function withNotices(audit: AuditLog, store: Store, clock: Clock): AuditLog {
  async function queue(event: AuditEventInput, within: Store) {
    const kind = noticeOf[event.type];
    if (!kind || !event.email) return;
    // A lockout is keyed by the address typed: only an account's own address gets mail.
    if (!(await within.accounts.findByEmail(event.email))) return;
    const now = clock.now();
    const what = whatOf(event.detail);
    await within.notices.insert({
      id: randomUUID(),
      email: event.email,
      kind,
      facts: { at: now.toISOString(), clientAddress: event.clientAddress ?? null, ...(what ? { what } : {}) },
      createdAt: now,
      nextAttemptAt: now,
      attempts: 0,
      sentAt: null,
      lastError: null,
    });
  }
  return {
    ...audit,
    async record(event, within = store) {
      await audit.record(event, within);
      await queue(event, within);
    },
  };
}
