import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Core } from '../core/index.ts';
import { isGatehouseError } from '../core/index.ts';
import type { SessionStage } from '../core/model.ts';
import type { ActiveSession } from '../core/sessions/session-service.ts';

export interface PortalCookieNames {
  session: string;
  csrf: string;
  smartcardState: string;
  /** `Sign in with a passkey`: the state its challenge is bound to before there is a session. */
  passkeyState: string;
}

/**
 * The names of the portal's own cookies, decided here only. Secure cookies carry the __Host-
 * prefix: a browser then accepts them only with Secure, Path=/ and no Domain, so neither a
 * sibling subdomain nor a plain-HTTP page can plant or overwrite them (RFC 6265bis §4.1.3.2).
 * Browsers refuse __Host- cookies without Secure, so plain-HTTP development keeps plain names.
 */
export function portalCookieNames(secure: boolean): PortalCookieNames {
  const prefix = secure ? '__Host-' : '';
  return {
    session: `${prefix}gatehouse_session`,
    csrf: `${prefix}gatehouse_csrf`,
    smartcardState: `${prefix}gatehouse_smartcard`,
    passkeyState: `${prefix}gatehouse_passkey`,
  };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in session, when the request carries a live one. */
    auth: ActiveSession | undefined;
  }
  interface FastifyReply {
    /** Gives the browser a session's token (a new one at every sign-in and promotion). */
    setSession(token: string): FastifyReply;
  }
}

/** Where a session at each stage belongs; a complete one goes back to the application it came for. */
export function homeFor(stage: SessionStage, returnTo?: string | null): string {
  switch (stage) {
    case 'complete':
      return returnTo ?? '/';
    case 'register_mfa':
      return '/mfa/register';
    case 'verify_mfa':
      return '/mfa/verify';
  }
}

export function registerSessionLoading(app: FastifyInstance, core: Core, cookieSecure: boolean): void {
  app.decorateRequest('auth', undefined);
  app.decorateReply('setSession', function setSession(this: FastifyReply, token: string) {
    setSessionCookie(this, token, cookieSecure);
    return this;
  });
  app.addHook('preHandler', async (request, reply) => {
    const token = request.cookies[portalCookieNames(cookieSecure).session];
    if (!token || token.length > 100) return;
    request.auth = await core.flow.resume(token, request.ip);
    if (!request.auth) clearSessionCookie(reply, cookieSecure);
  });
}

export function setSessionCookie(reply: FastifyReply, token: string, secure: boolean): void {
  reply.setCookie(portalCookieNames(secure).session, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
  });
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(portalCookieNames(secure).session, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
  });
}

/** A preHandler that admits only sessions at one of `stages`, sending others where they belong. */
export function requireStage(...stages: SessionStage[]) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const auth = request.auth;
    if (!auth) return reply.redirect('/signin', 303);
    if (!stages.includes(auth.session.stage)) return reply.redirect(homeFor(auth.session.stage), 303);
  };
}

/** The session of a route behind requireStage, which has already turned away anyone without one. */
export function signedIn(request: FastifyRequest): ActiveSession {
  if (!request.auth) throw new Error('route is missing its requireStage guard');
  return request.auth;
}

/**
 * When the flow refuses a change of how the account signs in, the way forward: prove a second
 * factor again and come back to `back` (the session steps up), sign in again, or turn MFA on
 * first. Returns undefined for any other error, which the caller handles.
 */
export async function pathPastRefusal(
  core: Core,
  request: FastifyRequest,
  error: unknown,
  back: string,
): Promise<string | undefined> {
  if (!isGatehouseError(error)) return undefined;
  const active = signedIn(request);
  switch (error.code) {
    case 'reverify_required':
      await core.flow.stepUp(active, back, request.ip);
      return '/mfa/verify';
    case 'reauthentication_required':
      return '/signin?reauth=1';
    case 'mfa_not_enabled':
      return '/profile/self-service';
    case 'flow_step_not_allowed':
      return homeFor(active.session.stage, active.session.returnTo);
    default:
      return undefined;
  }
}

/** The registration nudge's page (src/web/routes/own-account.ts). */
export const NUDGE_PATH = '/profile/nudge';

/**
 * Where a session goes once a factor was proved: the page or application it was going to. A
 * portal page is forgotten once reached; an application's interaction clears it itself.
 */
export async function afterProof(core: Core, request: FastifyRequest, reply: FastifyReply, token: string) {
  reply.setSession(token);
  const active = signedIn(request);
  // The registration nudge comes first; it continues to the same place (see own-account.ts).
  if (await core.ownAccount.nudge.due(active.account)) return NUDGE_PATH;
  const next = homeFor('complete', active.session.returnTo);
  if (active.session.returnTo && !active.session.returnTo.startsWith('/interaction/'))
    await core.flow.returnTo(active, null);
  return next;
}

/**
 * Where to send a session that may not change its methods now (prove a factor again, sign in
 * again), asked before a confirmation page so the user proves first; undefined when it may.
 */
export async function refusalOfChange(core: Core, request: FastifyRequest, back: string) {
  try {
    await core.flow.mayChange(signedIn(request), 'change_methods');
    return undefined;
  } catch (error) {
    const past = await pathPastRefusal(core, request, error, back);
    if (!past) throw error;
    return past;
  }
}
