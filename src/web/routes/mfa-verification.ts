import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type Core, isGatehouseError } from '../../core/index.ts';
import type { Session } from '../../core/model.ts';
import { formBody, summaryAndFields } from '../forms.ts';
import { pushProblem } from '../push-problems.ts';
import { homeFor, requireStage, signedIn } from '../session.ts';
import { formatTime } from '../time-format.ts';

/**
 * The second step of signing in (the guide's step 10): the PC shows a two-digit number, the user
 * types it in the app and approves; or enters a verification code instead.
 */
export function mfaVerificationRoutes(
  core: Core,
  options: { applicationName: (session: Session) => Promise<string> },
) {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireStage('verify_mfa'));

    /** When the session's request was approved, the session is promoted and true returned. */
    async function settled(
      request: FastifyRequest,
    ): Promise<{ status: string; number?: string; expiresAt?: Date }> {
      const { account, session } = signedIn(request);
      const pending = await core.authenticatorApp.signInState(session);
      if (pending?.status === 'approved') {
        await core.completeMfa(account, session, 'swk', request.ip);
        return { status: 'approved' };
      }
      return pending
        ? { status: pending.status, number: pending.number, expiresAt: pending.expiresAt }
        : { status: 'none' };
    }

    async function showPush(request: FastifyRequest, reply: FastifyReply, startNew: boolean) {
      const { account, session } = signedIn(request);
      let state = await settled(request);
      if (state.status === 'approved') return reply.redirect(homeFor('complete', session.returnTo), 303);
      if (startNew || state.status === 'none') {
        try {
          const application = await options.applicationName(session);
          const pushed = await core.authenticatorApp.signInRequest(account, session, request.ip, application);
          state = { status: pushed.status, number: pushed.number, expiresAt: pushed.expiresAt };
        } catch (error) {
          if (!isGatehouseError(error)) throw error;
          if (error.code === 'no_push_device') return reply.redirect('/mfa/verify/code', 303);
          const kind = error.code === 'push_blocked' ? 'blocked' : 'too_many';
          return reply.page(
            'mfa-verify',
            {
              title: pushProblem(kind).heading,
              status: kind,
              problem: pushProblem(kind),
              canRetry: kind === 'too_many',
            },
            429,
          );
        }
      }
      return reply.page('mfa-verify', {
        title: state.status === 'pending' ? 'Approve sign in request' : pushProblem(state.status).heading,
        status: state.status,
        number: state.number,
        expiresAt: state.expiresAt ? formatTime(state.expiresAt) : '',
        problem: pushProblem(state.status),
        canRetry: true,
      });
    }

    app.get('/mfa/verify', async (request, reply) => {
      // The default method decides, unless the user chose the app (?method=app).
      if ((request.query as { method?: unknown }).method !== 'app') {
        const kind = await defaultKind(signedIn(request).account.id);
        if (kind === 'phone') return reply.redirect('/mfa/verify/phone', 303);
        if (kind === 'totp') return reply.redirect('/mfa/verify/code', 303);
      }
      return showPush(request, reply, false);
    });
    app.post('/mfa/verify/retry', async (request, reply) => showPush(request, reply, true));
    app.post('/mfa/verify/check', async (_request, reply) => reply.redirect('/mfa/verify', 303));

    app.get('/mfa/verify/status', async (request) => {
      const { status } = await settled(request);
      const next =
        status === 'approved' ? homeFor('complete', signedIn(request).session.returnTo) : '/mfa/verify';
      return { status, next };
    });

    app.get('/mfa/verify/code', async (request, reply) => renderCode(request, reply));

    app.post('/mfa/verify/code', async (request, reply) => {
      const { account, session } = signedIn(request);
      const code = z.string().trim().max(20).safeParse(formBody(request.body).code);
      try {
        await core.totp.verifyCode(account, code.success ? code.data : '', request.ip);
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        const text =
          error.code === 'too_many_attempts'
            ? 'Too many wrong codes. Wait 15 minutes, then try again, or contact your IT service desk.'
            : error.code === 'method_not_found'
              ? 'You have no authenticator app that shows codes. Contact your IT service desk.'
              : 'The code is not correct. Enter the 6-digit code the app shows now.';
        return renderCode(request, reply, text, error.code === 'too_many_attempts' ? 429 : 400);
      }
      await core.completeMfa(account, session, 'otp', request.ip);
      return reply.redirect(homeFor('complete', session.returnTo), 303);
    });

    /** The kind of the default method; without one, the app first, then the phone, then codes. */
    async function defaultKind(accountId: string) {
      const methods = (await core.store.methods.listForAccount(accountId)).filter(
        (m) => m.status === 'active',
      );
      const chosen =
        methods.find((m) => m.isDefault) ??
        methods.find((m) => m.kind === 'authenticator_app') ??
        methods.find((m) => m.kind === 'phone') ??
        methods[0];
      return chosen?.kind;
    }

    async function renderCode(request: FastifyRequest, reply: FastifyReply, problem?: string, status = 200) {
      const methods = await core.store.methods.listForAccount(signedIn(request).account.id);
      const hasPush = methods.some((m) => m.kind === 'authenticator_app' && m.status === 'active');
      const hasPhone = methods.some((m) => m.kind === 'phone' && m.status === 'active');
      const errors = problem ? [{ field: 'code', text: problem }] : [];
      return reply.page(
        'mfa-verify-code',
        { title: 'Enter code', hasPush, hasPhone, ...summaryAndFields(errors) },
        status,
      );
    }
  };
}
