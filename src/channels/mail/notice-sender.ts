import nodemailer from 'nodemailer';
import type { Logger } from 'pino';
import type { AuditLog } from '../../core/audit/audit-log.ts';
import type { NoticeOutbox } from '../../core/notices/outbox.ts';
import { noticeMessage } from './notice-words.ts';
import type { SmtpSettings } from './settings.ts';

/** A claimed notice is this sender's for this long; a sender that dies gives it up by waiting. */
const LEASE_MS = 5 * 60_000;
const BATCH = 20;
const MAX_RETRY_MS = 60 * 60_000;

export interface NoticeSender {
  /** Sends what is due now (the timer calls it; tests may too). Returns how many were sent. */
  sendDue(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Reads the queue of security notices in the database and sends each through the organisation's
 * mail server with nodemailer. A notice leaves the queue only once the server accepted it; a
 * server that is down or refuses it leaves the notice queued, tried again later (doubling waits),
 * so nothing is lost, and sign-in never waits for mail. Every instance may run one: a notice is
 * claimed by one sender at a time.
 */
export function startNoticeSender(deps: {
  notices: NoticeOutbox;
  audit: AuditLog;
  settings: SmtpSettings;
  organisation: string;
  logger: Logger;
}): NoticeSender {
  const { notices, settings, logger } = deps;
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.security === 'tls',
    requireTLS: settings.security === 'starttls',
    ignoreTLS: settings.security === 'none',
    ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  let running: Promise<number> | undefined;
  let closed = false;

  async function sendBatch(): Promise<number> {
    let sent = 0;
    const due = await notices.claimDue(LEASE_MS, BATCH);
    for (const notice of due) {
      const message = noticeMessage(notice, deps.organisation, settings.helpText);
      try {
        await transport.sendMail({ from: settings.from, to: notice.email, ...message });
        await notices.markSent(notice.id);
        await deps.audit.record({ type: 'notice.sent', email: notice.email, detail: { kind: notice.kind } });
        sent++;
      } catch (error) {
        const wait = Math.min(MAX_RETRY_MS, settings.retrySeconds * 1000 * 2 ** (notice.attempts - 1));
        const reason = String((error as { code?: unknown }).code ?? (error as Error).message ?? 'error');
        await notices.markFailed(notice.id, reason, wait);
        logger.warn(
          { notice: notice.id, reason, retryInMs: wait },
          'a security notice could not be sent yet',
        );
      }
    }
    return sent;
  }

  const sendDue = () => {
    running ??= sendBatch().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => {
    if (closed) return;
    sendDue().catch((error: unknown) => logger.warn({ err: error }, 'reading the notice queue failed'));
  }, settings.pollSeconds * 1000);
  timer.unref();

  return {
    sendDue,
    async close() {
      closed = true;
      clearInterval(timer);
      await running?.catch(() => {});
      transport.close();
    },
  };
}
