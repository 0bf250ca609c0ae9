import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleActor } from '../../../core/console/actor.ts';
import { type Core, isGatehouseError } from '../../../core/index.ts';
import { messageFor } from '../../messages.ts';
import { pathPastRefusal } from '../../session.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route of the operator console: guarded by guardConsole (the route test checks each). */
    console?: boolean;
  }
  interface FastifyRequest {
    /** The operator or auditor using the console (set by guardConsole). */
    consoleActor: ConsoleActor | undefined;
  }
}

/** What the console's pages show of the person using it. */
export function actorOf(request: FastifyRequest): ConsoleActor {
  if (!request.consoleActor) throw new Error('console route without its guard');
  return request.consoleActor;
}

/** The page a console POST came from, to come back to after a step-up: its path minus the action. */
function backOf(request: FastifyRequest): string {
  const path = request.url.split('?')[0] ?? '/admin';
  if (request.method === 'GET') return request.url;
  const back = path.replace(/\/[^/]+$/, '').replace(/\/temporary-pass$/, '');
  return back.startsWith('/admin') ? back : '/admin';
}

export function notFound(reply: FastifyReply) {
  return reply.page(
    'error',
    {
      title: 'Page not found',
      heading: 'Page not found',
      paragraphs: ['If you typed the web address, check it is correct.'],
      backLink: { href: '/', text: 'Go to the portal home page' },
    },
    404,
  );
}

/**
 * Every route registered in the console's plugin passes these hooks, in this order:
 *  1. no session, or an account without a console role: 404, as for any unknown page (nothing
 *     tells that the console exists); a session that has not proved MFA steps up first;
 *  2. a POST needs the portal's CSRF token (checked here, after 1, so that a refusal does not
 *     reveal the console either; the global check is off for these routes only);
 *  3. a POST is a change: an auditor gets 403; an operator whose MFA is older than the
 *     configured freshness (15 minutes) proves it again (step-up) and comes back to the page.
 */
export function guardConsole(app: FastifyInstance, core: Core): void {
  app.decorateRequest('consoleActor', undefined);
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), csrf: false, console: true };
  });

  app.addHook('preHandler', async (request, reply) => {
    const auth = request.auth;
    const role = auth?.session.stage === 'complete' ? await core.console.roleOf(auth.account) : undefined;
    if (!auth || !role) return notFound(reply);
    if (core.console.requiresPhishingResistant && !core.flow.isPhishingResistant(auth)) {
      if (!(await core.flow.hasPasskey(auth.account))) return needsPasskey(reply);
      await core.flow.stepUp(auth, backOf(request), request.ip, { phishingResistant: true });
      return reply.redirect('/mfa/verify', 303);
    }
    if (!auth.session.factors.includes('mfa')) {
      try {
        await core.flow.stepUp(auth, backOf(request), request.ip);
        return reply.redirect('/mfa/verify', 303);
      } catch (error) {
        if (!isGatehouseError(error, 'method_not_found')) throw error;
        return reply.page(
          'error',
          {
            title: 'The console needs MFA',
            heading: 'The console needs MFA',
            paragraphs: [
              'Set up multi-factor authentication for your account, then sign in again to use the console.',
            ],
          },
          403,
        );
      }
    }
    request.consoleActor = { name: auth.account.email, role };
  });

  app.addHook('preHandler', (request, reply, done) => {
    if (request.method === 'POST') app.csrfProtection(request, reply, done);
    else done();
  });

  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return;
    const actor = actorOf(request);
    if (actor.role !== 'operator') {
      return reply.page(
        'error',
        {
          title: 'You cannot change this',
          heading: 'You cannot change this',
          paragraphs: [messageFor({ code: 'console_read_only', details: {}, shown: true }, core.clock.now())],
          backLink: { href: '/admin', text: 'Back to the console' },
          consoleRole: actor.role,
        },
        403,
      );
    }
    try {
      await core.flow.mayChange(auth(request), 'change_methods');
    } catch (error) {
      // A console that needs a passkey is proved again with one, not with any method.
      if (isGatehouseError(error, 'reverify_required') && core.console.requiresPhishingResistant) {
        await core.flow.stepUp(auth(request), backOf(request), request.ip, { phishingResistant: true });
        return reply.redirect('/mfa/verify', 303);
      }
      const past = await pathPastRefusal(core, request, error, backOf(request));
      if (!past) throw error;
      return reply.redirect(past, 303);
    }
  });
}

/** The console requires a passkey or smartcard sign-in, and the operator has no passkey yet. */
function needsPasskey(reply: FastifyReply) {
  return reply.page(
    'error',
    {
      title: 'The console needs a passkey or a smartcard',
      heading: 'The console needs a passkey or a smartcard',
      paragraphs: [
        'The console can only be used after signing in with a passkey or a smartcard, which a fake website cannot use. Your account has no passkey yet.',
        'To create one, select Profile, then Security info, then Add sign-in method, then I want to set up a different method, and choose Passkey. Or sign in with your smartcard (Log in with my Care identity). Then open the console again.',
      ],
      backLink: { href: '/profile/security-info', text: 'Go to Security info' },
    },
    403,
  );
}

function auth(request: FastifyRequest) {
  if (!request.auth) throw new Error('console route without a session');
  return request.auth;
}
