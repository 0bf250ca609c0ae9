import type { Notice, NoticeKind } from '../../core/model.ts';

/** What each notice says happened, in the plain words of the portal's pages. */
const happened: Record<NoticeKind, { subject: string; line: (what?: string) => string }> = {
  method_added: {
    subject: 'A sign-in method was added to your account',
    line: (what) => `A sign-in method${what ? ` (${what})` : ''} was added to your account.`,
  },
  method_removed: {
    subject: 'A sign-in method was removed from your account',
    line: (what) => `A sign-in method${what ? ` (${what})` : ''} was removed from your account.`,
  },
  app_password_created: {
    subject: 'An app password was created for your account',
    line: (what) => `An app password${what ? ` named "${what}"` : ''} was created for your account.`,
  },
  password_changed: {
    subject: 'Your password was changed',
    line: () => 'The password of your account was changed.',
  },
  password_reset: {
    subject: 'Your password was reset',
    line: () => 'The password of your account was reset with the forgotten password page.',
  },
  signin_reported: {
    subject: 'A sign-in to your account was reported',
    line: () => 'A sign-in to your account was reported as not you. Every session of your account was ended.',
  },
  method_suspended: {
    subject: 'A sign-in method on your account was suspended',
    line: (what) =>
      `A sign-in method${what ? ` (${what})` : ''} on your account was suspended because it may have been copied. It can no longer be used to sign in.`,
  },
  lockout: {
    subject: 'Your account was locked after failed sign-ins',
    line: () => 'Your account was locked for a while because of too many failed sign-in attempts.',
  },
};

/** A short plain email: what happened, when, from where, and what to do if it was not them. */
export function noticeMessage(notice: Notice, organisation: string, helpText: string) {
  const words = happened[notice.kind];
  const when = new Date(notice.facts.at).toLocaleString('en-GB', {
    timeZone: 'UTC',
    dateStyle: 'long',
    timeStyle: 'short',
  });
  const lines = [
    words.line(notice.facts.what),
    '',
    `When: ${when} UTC`,
    `From: ${notice.facts.clientAddress ?? 'unknown address'}`,
    '',
    notice.kind === 'signin_reported'
      ? `Change your password now. If you did not report it, ${helpText}.`
      : notice.kind === 'method_suspended'
        ? `Change your password now, and ${helpText}.`
        : `If this was you, there is nothing to do. If it was not you, ${helpText}, and change your password.`,
    '',
    `${organisation} sign-in portal. This message was sent automatically; do not reply to it.`,
  ];
  return { subject: `${organisation}: ${words.subject}`, text: lines.join('\n') };
}
