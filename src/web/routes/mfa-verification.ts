import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type Core, GatehouseError, isGatehouseError } from '../../core/index.ts';
import type { Session } from '../../core/model.ts';
import { formBody, summaryAndFields } from '../forms.ts';
import { messageFor } from '../messages.ts';
import { pushProblem } from '../push-problems.ts';
import { afterProof, requireStage, signedIn } from '../session.ts';
import { formatTime } from '../time-format.ts';
import { registerPasskeyVerification } from './passkeys.ts';
import { sessionEventsRoute } from './session-events.ts';

export interface VerificationOptions {
  /** The application the sign-in is for, as the app shows it. */
  applicationName: (session: Session) => Promise<string>;
  /** The portal's public address (passkeys are bound to it). */
  publicUrl?: string | undefined;
  /** Smartcard sign-in is configured: a sign-in that needs a passkey may offer the card instead. */
  careIdentity?: boolean;
}

const codeField = z.string().trim().max(20).catch('');
const problemQuery = z.enum(['blocked', 'too_many']);

/**
 * The second factor's first step, raised by the POST that needs it (the password, a retry), never
 * by a GET: a link or a prefetch must not push to a phone or ring it. Answers with where to go.
 */
export function beginVerification(core: Core, options: VerificationOptions) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const active = signedIn(request);
    const [first] = await core.flow.challengeMethods(active);
    if (first === 'phone') return callPhone(core, request, reply);
    if (first === 'passkey' || (!first && core.flow.phishingResistantWanted(active)))
      return reply.redirect('/mfa/verify/passkey', 303);
    if (first !== 'authenticator_app') return reply.redirect('/mfa/verify/code', 303);
    try {
      const application = await options.applicationName(active.session);
      await core.flow.startChallenge(active, 'authenticator_app', { application }, request.ip);
      return reply.redirect('/mfa/verify', 303);
    } catch (error) {
      if (!isGatehouseError(error)) throw error;
      if (error.code === 'no_push_device') return reply.redirect('/mfa/verify/code', 303);
      return reply.redirect(
        `/mfa/verify?problem=${error.code === 'push_blocked' ? 'blocked' : 'too_many'}`,
        303,
      );
    }
  };
}

/** Calls (or texts) the default phone for the session's sign-in, or says why it could not. */
export async function callPhone(
  core: Core,
  request: FastifyRequest,
  reply: FastifyReply,
  channel?: 'call' | 'sms',
) {
  const active = signedIn(request);
  try {
    const challenge = await core.flow.startChallenge(active, 'phone', channel ? { channel } : {}, request.ip);
    return reply.redirect(`/mfa/verify/phone/${challenge?.channel === 'sms' ? 'code' : 'call'}`, 303);
  } catch (error) {
    if (!isGatehouseError(error)) throw error;
    return reply.page(
      'error',
      {
        title: 'We could not call your phone',
        heading: 'We could not call your phone',
        paragraphs: [messageFor(error, core.clock.now(), 'dial', PHONE_UNAVAILABLE)],
        backLink: { href: '/mfa/verify/code', text: 'Use a verification code' },
      },
      // A number that cannot be dialled now is the service's refusal, not a bad form.
      error.code === 'phone_blocked' ? 429 : 503,
    );
  }
}

const PHONE_UNAVAILABLE =
  'We could not call or text your phone right now. Try again later, or choose a different method';

/**
 * The second step of signing in (the guide's step 10): the PC shows a two-digit number, the user
 * types it in the app and approves; or enters a verification code instead.
 */
export function mfaVerificationRoutes(core: Core, options: VerificationOptions) {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireStage('verify_mfa'));

    /** Shows where the session's request stands (or why none could be raised); raises nothing. */
    async function showPush(request: FastifyRequest, reply: FastifyReply, refused?: 'blocked' | 'too_many') {
      const active = signedIn(request);
      const methods = await core.flow.challengeMethods(active);
      const outcome = await core.flow.finishChallenge(active, 'authenticator_app', {}, request.ip);
      if (outcome.status === 'proved')
        return reply.redirect(await afterProof(core, request, reply, outcome.token), 303);
      if (outcome.status !== 'waiting') throw new GatehouseError('flow_step_not_allowed');
      const pending = outcome.view;
      const asked = problemQuery.safeParse((request.query as { problem?: unknown }).problem);
      const problem = refused ?? (asked.success ? asked.data : undefined);
      const status = (refused ? undefined : pending?.status) ?? problem ?? 'none';
      return reply.page(
        'mfa-verify',
        {
          title: status === 'pending' ? 'Approve sign in request' : pushProblem(status).heading,
          status,
          number: pending?.number,
          expiresAt: pending ? formatTime(pending.expiresAt) : '',
          problem: pushProblem(status),
          canRetry: status !== 'blocked' && methods.includes('authenticator_app'),
          hasPhone: methods.includes('phone'),
        },
        status === problem ? 429 : 200,
      );
    }

    app.get('/mfa/verify', async (request, reply) => {
      const active = signedIn(request);
      const [first] = await core.flow.challengeMethods(active);
      // The default method decides; the session's own call or text, if it has one, is shown.
      if (first === 'phone') {
        const call = await core.phone.state(active.session, 'sign_in');
        if (call) return reply.redirect(`/mfa/verify/phone/${call.channel === 'sms' ? 'code' : 'call'}`, 303);
      }
      if (first === 'totp') return reply.redirect('/mfa/verify/code', 303);
      if (first === 'passkey' || (!first && core.flow.phishingResistantWanted(active)))
        return reply.redirect('/mfa/verify/passkey', 303);
      return showPush(request, reply);
    });

    app.post('/mfa/verify/retry', async (request, reply) => {
      const active = signedIn(request);
      try {
        const application = await options.applicationName(active.session);
        await core.flow.startChallenge(active, 'authenticator_app', { application }, request.ip);
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        if (error.code === 'no_push_device') return reply.redirect('/mfa/verify/code', 303);
        return showPush(request, reply, error.code === 'push_blocked' ? 'blocked' : 'too_many');
      }
      return reply.redirect('/mfa/verify', 303);
    });

    app.post('/mfa/verify/check', async (_request, reply) => reply.redirect('/mfa/verify', 303));

    // Asked by the waiting page's script on each event: the PC moves on by itself once approved.
    app.get('/mfa/verify/status', async (request, reply) => {
      const active = signedIn(request);
      const outcome = await core.flow.finishChallenge(active, 'authenticator_app', {}, request.ip);
      if (outcome.status === 'proved')
        return { status: 'approved', next: await afterProof(core, request, reply, outcome.token) };
      const status = outcome.status === 'waiting' ? (outcome.view?.status ?? 'none') : 'none';
      return { status, next: '/mfa/verify' };
    });

    // The waiting page listens here instead of polling the status URL.
    sessionEventsRoute(app, core, '/mfa/verify/events');

    registerPasskeyVerification(app, core, options);

    app.get('/mfa/verify/code', async (request, reply) => renderCode(request, reply));

    app.post('/mfa/verify/code', async (request, reply) => {
      const active = signedIn(request);
      try {
        const code = codeField.parse(formBody(request.body).code);
        const outcome = await core.flow.finishChallenge(active, 'totp', { code }, request.ip);
        if (outcome.status !== 'proved') throw new GatehouseError('invalid_code');
        return reply.redirect(await afterProof(core, request, reply, outcome.token), 303);
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        return renderCode(request, reply, messageFor(error, core.clock.now()), error.status);
      }
    });

    async function renderCode(request: FastifyRequest, reply: FastifyReply, problem?: string, status = 200) {
      const methods = await core.flow.challengeMethods(signedIn(request));
      const errors = problem ? [{ field: 'code', text: problem }] : [];
      return reply.page(
        'mfa-verify-code',
        {
          title: 'Enter code',
          hasPush: methods.includes('authenticator_app'),
          hasPhone: methods.includes('phone'),
          hasPasskey: methods.includes('passkey'),
          ...summaryAndFields(errors),
        },
        status,
      );
    }
  };
}
