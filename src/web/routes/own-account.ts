import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type Core, isGatehouseError } from '../../core/index.ts';
import type { SignInEntry } from '../../core/own-account/sign-in-history.ts';
import { MAX_PASSWORD_LENGTH } from '../../core/passwords/password-policy.ts';
import { type FieldError, formBody, summaryAndFields } from '../forms.ts';
import { messageFor } from '../messages.ts';
import {
  clearSessionCookie,
  homeFor,
  NUDGE_PATH,
  pathPastRefusal,
  requireStage,
  signedIn,
} from '../session.ts';
import { formatDateTime } from '../time-format.ts';

const PASSWORD_PATH = '/profile/security-info/password';
const SIGN_INS_PATH = '/profile/sign-ins';
const EVERYWHERE_PATH = '/profile/sign-out-everywhere';

const methodWords: Record<SignInEntry['method'], string> = {
  password: 'Password',
  authenticator_app: 'Authenticator app',
  verification_code: 'Verification code',
  phone_call: 'Phone call',
  text_message: 'Text message',
  smartcard: 'Smartcard',
  passkey: 'Passkey',
  single_sign_on: 'Single sign-on',
};
const resultWords: Record<SignInEntry['result'], string> = {
  success: 'Success',
  wrong_password: 'Wrong password',
  denied: 'Denied',
  reported: 'Reported',
};

const passwordForm = z.object({
  current: z.string().min(1).max(MAX_PASSWORD_LENGTH),
  next: z
    .string()
    .min(1)
    .max(MAX_PASSWORD_LENGTH * 4),
  confirm: z.string().max(MAX_PASSWORD_LENGTH * 4),
  others: z.enum(['yes', 'no']),
});
const passwordFieldWords: Record<string, string> = {
  current: 'Enter your current password',
  next: 'Enter a new password',
  confirm: 'Enter the new password again',
  others: 'Choose whether to sign out everywhere else',
};
const eventParam = z.object({ id: z.coerce.number().int().positive() });

/**
 * The user's own account: change password (Security info), My sign-ins with `This wasn't me`,
 * Sign out everywhere, and the registration nudge after sign-in.
 */
export function ownAccountRoutes(core: Core, options: { cookieSecure: boolean }) {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireStage('complete'));

    /** Where a refusal of the change leads (prove a factor again), or undefined. */
    async function refusal(request: FastifyRequest): Promise<string | undefined> {
      try {
        await core.ownAccount.password.mayChange(signedIn(request), request.ip);
        return undefined;
      } catch (error) {
        const past = await pathPastRefusal(core, request, error, PASSWORD_PATH);
        if (!past) throw error;
        return past;
      }
    }

    const passwordPage = (
      reply: FastifyReply,
      errors: FieldError[] = [],
      status = 200,
      flash?: string | null,
    ) =>
      reply.page('change-password', { title: 'Change password', flash, ...summaryAndFields(errors) }, status);

    app.get(PASSWORD_PATH, async (request, reply) => {
      try {
        const past = await refusal(request);
        if (past) return reply.redirect(past, 303);
      } catch (error) {
        if (!isGatehouseError(error, 'second_factor_required')) throw error;
        return reply.page('error', {
          title: 'Change password',
          heading: 'Add a sign-in method first',
          paragraphs: [messageFor(error, core.clock.now())],
          backLink: { href: '/profile/security-info', text: 'Security info' },
        });
      }
      return passwordPage(reply, [], 200, await core.sessions.takeFlash(signedIn(request).session));
    });

    app.post(PASSWORD_PATH, async (request, reply) => {
      const active = signedIn(request);
      const body = formBody(request.body);
      const parsed = passwordForm.safeParse(body);
      if (!parsed.success) {
        const seen = new Set(parsed.error.issues.map((i) => String(i.path[0])));
        return passwordPage(
          reply,
          [...seen].map((field) => ({ field, text: passwordFieldWords[field] ?? 'Check this answer' })),
          400,
        );
      }
      const { current, next, confirm, others } = parsed.data;
      if (next !== confirm)
        return passwordPage(reply, [{ field: 'confirm', text: 'The new passwords do not match' }], 400);
      try {
        await core.ownAccount.password.change(active, {
          current,
          next,
          signOutOthers: others === 'yes',
          clientAddress: request.ip,
        });
      } catch (error) {
        const past = await pathPastRefusal(core, request, error, PASSWORD_PATH);
        if (past) return reply.redirect(past, 303);
        if (!isGatehouseError(error)) throw error;
        const field = error.code === 'current_password_wrong' ? 'current' : 'next';
        return passwordPage(reply, [{ field, text: messageFor(error, core.clock.now()) }], error.status);
      }
      await core.sessions.setFlash(
        active.session,
        others === 'yes'
          ? 'Your password was changed. You were signed out everywhere else.'
          : 'Your password was changed.',
      );
      return reply.redirect('/profile/security-info', 303);
    });

    app.get(SIGN_INS_PATH, async (request, reply) => {
      const { account, session } = signedIn(request);
      const entries = await core.ownAccount.signIns.list(account);
      return reply.page('my-sign-ins', {
        title: 'My sign-ins',
        flash: await core.sessions.takeFlash(session),
        entries: entries.map((e) => ({
          id: e.id,
          time: formatDateTime(e.at),
          application: e.application ?? 'Gatehouse portal',
          method: methodWords[e.method],
          address: e.clientAddress ?? 'Unknown',
          result: resultWords[e.result],
          reportable: !e.reported && e.result !== 'reported',
          reported: e.reported,
        })),
      });
    });

    app.post(`${SIGN_INS_PATH}/:id/report`, async (request, reply) => {
      const { id } = eventParam.parse(request.params);
      const active = signedIn(request);
      try {
        await core.ownAccount.signIns.report(active, id, request.ip);
      } catch (error) {
        if (!isGatehouseError(error, 'invalid_input')) throw error;
        return reply.redirect(SIGN_INS_PATH, 303);
      }
      await core.sessions.setFlash(
        active.session,
        'Thank you for reporting it. Every other session of your account has ended. Change your password now.',
      );
      return reply.redirect(PASSWORD_PATH, 303);
    });

    app.get(EVERYWHERE_PATH, async (_request, reply) =>
      reply.page('confirm-action', {
        title: 'Sign out everywhere',
        heading: 'Sign out everywhere?',
        paragraphs: [
          'You will be signed out of the portal and of every application you signed in to through it, on every device, including this one.',
          'Applications on your phone or computer will ask you to sign in again.',
        ],
        action: EVERYWHERE_PATH,
        confirmText: 'Sign out everywhere',
      }),
    );

    app.post(EVERYWHERE_PATH, async (request, reply) => {
      const { account } = signedIn(request);
      await core.signOutEverywhere(account, { reason: 'user_request', clientAddress: request.ip });
      clearSessionCookie(reply, options.cookieSecure);
      return reply.redirect('/signin', 303);
    });

    app.get(NUDGE_PATH, async (request, reply) => {
      const active = signedIn(request);
      const due = await core.ownAccount.nudge.due(active.account);
      if (!due) return reply.redirect(await continueTo(core, request), 303);
      return reply.page('nudge', { title: 'Set up the authenticator app', ...due });
    });

    app.post(`${NUDGE_PATH}/not-now`, async (request, reply) => {
      const active = signedIn(request);
      try {
        await core.ownAccount.nudge.snooze(active.account, request.ip);
      } catch (error) {
        if (!isGatehouseError(error, 'nudge_snoozes_used')) throw error;
        return reply.redirect(NUDGE_PATH, 303);
      }
      return reply.redirect(await continueTo(core, request), 303);
    });
  };
}

/** Where a signed-in session was going (an application's sign-in, or the portal's front page). */
async function continueTo(core: Core, request: FastifyRequest): Promise<string> {
  const active = signedIn(request);
  const next = homeFor('complete', active.session.returnTo);
  if (active.session.returnTo && !active.session.returnTo.startsWith('/interaction/'))
    await core.flow.returnTo(active, null);
  return next;
}
