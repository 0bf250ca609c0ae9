import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type Core, type GatehouseError, isGatehouseError } from '../../core/index.ts';
import type { CertificateTicketPurpose } from '../../core/model.ts';
import type { ResetHandle } from '../../core/recovery/password-reset.ts';
import {
  homeFor,
  pathPastRefusal,
  portalCookieNames,
  refusalOfChange,
  requireStage,
  signedIn,
} from '../session.ts';
import { certificateMessage } from '../smartcard/messages.ts';
import { formatDateTime } from '../time-format.ts';
import { resetCookieName, resetIdPattern, resetRefusal } from './password-reset.ts';
import { validReturn } from './sign-in.ts';

export interface SmartcardPortalOptions {
  /** Where browsers reach the certificate endpoint (https://host:port); default: this host, `port`. */
  endpointUrl?: string | undefined;
  port: number;
  /** How long a checked card stays valid for the hand-over; the state cookie lives as long. */
  ticketSeconds: number;
  cookieSecure: boolean;
}

/** The browser's half of the hand-over: the state the endpoint binds its ticket to. */
const stateCookie = z.object({
  s: z.string(),
  p: z.enum(['sign_in', 'bind', 'reset']),
  /** Where to return after signing in; for a reset, the reset's id. */
  r: z.string().nullable(),
});
const ticketQuery = z.object({ ticket: z.string().regex(/^[A-Za-z0-9_-]{43}$/) });
const idParam = z.object({ id: z.string().min(1).max(64) });

/** What a refused card's page is called, and where it starts again. */
const PROBLEM_PLACES: Record<CertificateTicketPurpose, { title: string; retryUrl: string }> = {
  sign_in: { title: 'Log in with my Care identity', retryUrl: '/signin/smartcard' },
  bind: { title: 'Add your smartcard', retryUrl: '/profile/security-info/smartcard' },
  reset: { title: 'Reset your password', retryUrl: '/signin/forgot' },
};

/** `Log in with my Care identity`, the smartcard part of Security info, and a card for a forgotten password. */
export function smartcardRoutes(core: Core, options: SmartcardPortalOptions) {
  const STATE_COOKIE = portalCookieNames(options.cookieSecure).smartcardState;
  const endpoint = (request: FastifyRequest) =>
    (options.endpointUrl ?? `https://${request.hostname}:${options.port}`).replace(/\/+$/, '');

  function start(
    request: FastifyRequest,
    reply: FastifyReply,
    purpose: CertificateTicketPurpose,
    returnTo: string | null,
    state: string,
  ) {
    reply.setCookie(STATE_COOKIE, JSON.stringify({ s: state, p: purpose, r: returnTo }), {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: options.cookieSecure,
      signed: true,
      maxAge: options.ticketSeconds + 60,
    });
    const path = { sign_in: '/signin', bind: '/bind', reset: '/reset' }[purpose];
    return reply.redirect(`${endpoint(request)}${path}?${new URLSearchParams({ state })}`, 303);
  }

  /** The state this browser was given, once: the cookie is cleared as it is read. */
  function takeState(request: FastifyRequest, reply: FastifyReply, purpose: CertificateTicketPurpose) {
    const raw = request.cookies[STATE_COOKIE];
    reply.clearCookie(STATE_COOKIE, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: options.cookieSecure,
    });
    const unsigned = raw ? request.unsignCookie(raw) : undefined;
    if (!unsigned?.valid || !unsigned.value) return undefined;
    try {
      const parsed = stateCookie.safeParse(JSON.parse(unsigned.value));
      return parsed.success && parsed.data.p === purpose ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  const problem = (
    reply: FastifyReply,
    code: Parameters<typeof certificateMessage>[0],
    purpose: CertificateTicketPurpose,
  ) =>
    reply.page(
      'smartcard-problem',
      {
        title: PROBLEM_PLACES[purpose].title,
        message: certificateMessage(code),
        retryUrl: PROBLEM_PLACES[purpose].retryUrl,
        portalUrl: '',
        purpose,
      },
      400,
    );

  /** The reset this browser began (its id from the address or the card's state, its secret from its cookie). */
  const resetHandle = (request: FastifyRequest, id = idOfReset(request)): ResetHandle => ({
    id,
    browserSecret: String(request.cookies[resetCookieName(options.cookieSecure)] ?? '').slice(0, 100),
    clientAddress: request.ip,
  });
  const idOfReset = (request: FastifyRequest) => {
    const id = String((request.params as { id?: unknown }).id ?? '');
    return resetIdPattern.test(id) ? id : '';
  };
  const resetRefused = (reply: FastifyReply, error: GatehouseError) =>
    resetRefusal(reply, error, core.clock.now());

  return async (app: FastifyInstance) => {
    app.get('/signin/smartcard', async (request, reply) => {
      const returnTo = validReturn((request.query as { return?: unknown }).return);
      return start(request, reply, 'sign_in', returnTo, core.smartcard.newState());
    });

    app.get('/signin/smartcard/complete', async (request, reply) => {
      const query = ticketQuery.safeParse(request.query);
      const state = takeState(request, reply, 'sign_in');
      if (!query.success || !state) return problem(reply, 'certificate_ticket_invalid', 'sign_in');
      try {
        const { token } = await core.flow.signInWithSmartcard({
          ticket: query.data.ticket,
          state: state.s,
          clientAddress: request.ip,
          returnTo: state.r,
        });
        const previous = request.cookies[portalCookieNames(options.cookieSecure).session];
        if (previous) await core.flow.signOut(previous, request.ip);
        reply.setSession(token);
        return reply.redirect(homeFor('complete', state.r), 303);
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        return problem(reply, error.code, 'sign_in');
      }
    });

    // A forgotten password proved with the card (src/core/recovery/password-reset.ts).
    app.get('/signin/forgot/:id/smartcard', async (request, reply) => {
      const handle = resetHandle(request);
      try {
        await core.passwordReset.state(handle);
      } catch (error) {
        if (!isGatehouseError(error, 'reset_invalid')) throw error;
        return resetRefused(reply, error);
      }
      return start(request, reply, 'reset', handle.id, core.smartcard.newState());
    });

    app.get('/signin/forgot/smartcard/complete', async (request, reply) => {
      const query = ticketQuery.safeParse(request.query);
      const state = takeState(request, reply, 'reset');
      const id = state?.r ?? '';
      if (!query.success || !state || !resetIdPattern.test(id))
        return problem(reply, 'certificate_ticket_invalid', 'reset');
      try {
        await core.passwordReset.proveWithSmartcard(resetHandle(request, id), {
          ticket: query.data.ticket,
          state: state.s,
        });
        return reply.redirect(`/signin/forgot/${id}`, 303);
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        if (error.code.startsWith('reset_')) return resetRefused(reply, error);
        return problem(reply, error.code, 'reset');
      }
    });

    await app.register(async (secured) => {
      secured.addHook('preHandler', requireStage('complete'));

      secured.get('/profile/security-info/smartcard', async (request, reply) => {
        try {
          const { state } = await core.flow.startEnrolment(signedIn(request), 'smartcard', {}, request.ip);
          return start(request, reply, 'bind', null, state);
        } catch (error) {
          const past = await pathPastRefusal(core, request, error, '/profile/security-info');
          if (!past) throw error;
          return reply.redirect(past, 303);
        }
      });

      secured.get('/profile/security-info/smartcard/complete', async (request, reply) => {
        const active = signedIn(request);
        const { session } = active;
        const query = ticketQuery.safeParse(request.query);
        const state = takeState(request, reply, 'bind');
        if (!query.success || !state) return problem(reply, 'certificate_ticket_invalid', 'bind');
        try {
          await core.flow.finishEnrolment(
            active,
            'smartcard',
            { ticket: query.data.ticket, state: state.s },
            request.ip,
          );
          await core.sessions.setFlash(
            session,
            'Your smartcard was added. You can now use Log in with my Care identity.',
          );
          return reply.redirect('/profile/security-info', 303);
        } catch (error) {
          const past = await pathPastRefusal(core, request, error, '/profile/security-info');
          if (past) return reply.redirect(past, 303);
          if (!isGatehouseError(error)) throw error;
          return problem(reply, error.code, 'bind');
        }
      });

      secured.get('/profile/security-info/smartcards/:id/remove', async (request, reply) => {
        const { id } = idParam.parse(request.params);
        const active = signedIn(request);
        const card = (await core.smartcard.bindings(active.account.id)).find((b) => b.id === id);
        if (!card) return reply.redirect('/profile/security-info', 303);
        const refused = await refusalOfChange(
          core,
          request,
          `/profile/security-info/smartcards/${id}/remove`,
        );
        if (refused) return reply.redirect(refused, 303);
        return reply.page('confirm-action', {
          title: 'Remove smartcard',
          heading: 'Remove this smartcard?',
          paragraphs: [
            `${card.subject}, valid until ${formatDateTime(card.notAfter)}.`,
            'You will no longer be able to use it to sign in.',
          ],
          action: `/profile/security-info/smartcards/${card.id}/remove`,
          confirmText: 'Remove',
        });
      });

      secured.post('/profile/security-info/smartcards/:id/remove', async (request, reply) => {
        const { id } = idParam.parse(request.params);
        const active = signedIn(request);
        const { session } = active;
        try {
          await core.flow.removeMethod(active, 'smartcard', id, request.ip);
          await core.sessions.setFlash(session, 'The smartcard was removed.');
        } catch (error) {
          const past = await pathPastRefusal(
            core,
            request,
            error,
            `/profile/security-info/smartcards/${id}/remove`,
          );
          if (past) return reply.redirect(past, 303);
          if (!isGatehouseError(error, 'certificate_binding_not_found')) throw error;
          await core.sessions.setFlash(session, certificateMessage(error.code));
        }
        return reply.redirect('/profile/security-info', 303);
      });
    });
  };
}
