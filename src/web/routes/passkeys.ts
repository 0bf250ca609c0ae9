import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type Core, GatehouseError, isGatehouseError } from '../../core/index.ts';
import { type FieldError, fieldErrors, formBody, summaryAndFields } from '../forms.ts';
import { messageFor } from '../messages.ts';
import { publicUrlOf } from '../public-url.ts';
import { afterProof, homeFor, pathPastRefusal, portalCookieNames, signedIn } from '../session.ts';
import { validReturn } from './sign-in.ts';

/** The browser's answer, as @simplewebauthn/browser gives it, posted in a hidden form field. */
const credentialJson = z
  .string()
  .max(64 * 1024)
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not JSON' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .object({
        id: z.string().max(1024),
        rawId: z.string().max(1024),
        type: z.literal('public-key'),
        response: z.object({ clientDataJSON: z.string().max(16 * 1024) }).passthrough(),
        clientExtensionResults: z.object({}).passthrough(),
        authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
      })
      .passthrough(),
  );

const nameField = z.string().trim().min(1).max(64);
const nameMessages = { name: 'Enter a name for your passkey, like Work laptop or Blue security key' };

// biome-ignore lint/suspicious/noExplicitAny: the checked JSON is handed to @simplewebauthn, which checks it fully.
const asResponse = (value: z.infer<typeof credentialJson>) => value as any;

/** Where the browser says the portal is: the configured public address, else this request's. */
const originOf = (request: FastifyRequest, publicUrl: string | undefined) => publicUrlOf(request, publicUrl);

/** `Passkey` in the registration wizard and in Security info's `Add sign-in method`. */
export function registerPasskeyEnrolment(app: FastifyInstance, core: Core, publicUrl: string | undefined) {
  const base = '/mfa/register/passkey';
  const render = (request: FastifyRequest, reply: FastifyReply, errors: FieldError[] = [], status = 200) => {
    const active = signedIn(request);
    // In the wizard of an account that must use a passkey, no other method is offered.
    const only = active.session.stage === 'register_mfa' && core.flow.phishingResistantWanted(active);
    return reply.page(
      'passkey-register',
      { title: 'Create a passkey', only, ...summaryAndFields(errors) },
      status,
    );
  };

  app.get(base, async (request, reply) => render(request, reply));

  // Asked by the page's script: the options for navigator.credentials.create().
  app.post(`${base}/options`, async (request, reply) => {
    try {
      return await core.flow.startEnrolment(
        signedIn(request),
        'passkey',
        { origin: originOf(request, publicUrl) },
        request.ip,
      );
    } catch (error) {
      if (!isGatehouseError(error)) throw error;
      return reply.code(error.status).send({ error: messageFor(error, core.clock.now()) });
    }
  });

  app.post(base, async (request, reply) => {
    const body = formBody(request.body);
    const name = nameField.safeParse(body.name);
    if (!name.success) return render(request, reply, fieldErrors(name.error, nameMessages), 400);
    try {
      const response = credentialJson.safeParse(body.credential);
      if (!response.success) throw new GatehouseError('passkey_rejected');
      const outcome = await core.flow.finishEnrolment(
        signedIn(request),
        'passkey',
        { origin: originOf(request, publicUrl), response: asResponse(response.data), name: name.data },
        request.ip,
      );
      if (outcome.status !== 'proved') throw new GatehouseError('passkey_rejected');
      reply.setSession(outcome.token);
    } catch (error) {
      const past = await pathPastRefusal(core, request, error, base);
      if (past) return reply.redirect(past, 303);
      if (!isGatehouseError(error)) throw error;
      return render(
        request,
        reply,
        [{ field: 'name', text: messageFor(error, core.clock.now()) }],
        error.status,
      );
    }
    return reply.redirect('/mfa/register/app-password', 303);
  });
}

/** `Use a passkey` at the second factor (and as the default method). */
export function registerPasskeyVerification(
  app: FastifyInstance,
  core: Core,
  options: { publicUrl?: string | undefined; careIdentity?: boolean },
) {
  const { publicUrl } = options;
  const base = '/mfa/verify/passkey';
  const render = async (request: FastifyRequest, reply: FastifyReply, problem?: string, status = 200) => {
    const active = signedIn(request);
    const methods = await core.flow.challengeMethods(active);
    const returnTo = validReturn(active.session.returnTo);
    return reply.page(
      'passkey-verify',
      {
        title: 'Use a passkey',
        // Said plainly: why only a passkey or a smartcard will do (the account's group, or the
        // application or console this step-up is for).
        required: core.flow.phishingResistantWanted(active),
        byGroup: core.flow.phishingResistantRequired(active.account),
        careIdentity: options.careIdentity === true,
        smartcardHref: `/signin/smartcard${returnTo ? `?return=${encodeURIComponent(returnTo)}` : ''}`,
        hasPasskey: methods.includes('passkey'),
        hasPush: methods.includes('authenticator_app'),
        hasCode: methods.includes('totp'),
        hasPhone: methods.includes('phone'),
        ...summaryAndFields(problem ? [{ field: 'passkey', text: problem }] : []),
      },
      status,
    );
  };

  app.get(base, async (request, reply) => render(request, reply));

  app.post(`${base}/options`, async (request, reply) => {
    try {
      return await core.flow.startChallenge(
        signedIn(request),
        'passkey',
        { origin: originOf(request, publicUrl) },
        request.ip,
      );
    } catch (error) {
      if (!isGatehouseError(error)) throw error;
      return reply.code(error.status).send({ error: messageFor(error, core.clock.now()) });
    }
  });

  app.post(base, async (request, reply) => {
    try {
      const response = credentialJson.safeParse(formBody(request.body).credential);
      if (!response.success) throw new GatehouseError('passkey_rejected');
      const outcome = await core.flow.finishChallenge(
        signedIn(request),
        'passkey',
        { origin: originOf(request, publicUrl), response: asResponse(response.data) },
        request.ip,
      );
      if (outcome.status !== 'proved') throw new GatehouseError('passkey_rejected');
      return reply.redirect(await afterProof(core, request, reply, outcome.token), 303);
    } catch (error) {
      if (!isGatehouseError(error)) throw error;
      return render(request, reply, messageFor(error, core.clock.now()), error.status);
    }
  });
}

/** `Sign in with a passkey` on the sign-in page: no email, no password (a discoverable passkey). */
export function passkeySignInRoutes(
  core: Core,
  options: { publicUrl?: string | undefined; cookieSecure: boolean },
) {
  const cookie = portalCookieNames(options.cookieSecure).passkeyState;
  const base = '/signin/passkey';
  return async (app: FastifyInstance) => {
    const render = (reply: FastifyReply, returnTo: string | null, problem?: string, status = 200) =>
      reply.page(
        'passkey-sign-in',
        {
          title: 'Sign in with a passkey',
          returnTo,
          ...summaryAndFields(problem ? [{ field: 'passkey', text: problem }] : []),
        },
        status,
      );

    app.get(base, async (request, reply) => {
      const returnTo = validReturn((request.query as { return?: unknown }).return);
      if (request.auth) return reply.redirect(homeFor(request.auth.session.stage, returnTo), 303);
      return render(reply, returnTo);
    });

    app.post(`${base}/options`, async (request, reply) => {
      const state = core.passkeys.newState();
      reply.setCookie(cookie, state, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: options.cookieSecure,
        signed: true,
      });
      try {
        return await core.flow.startPasskeySignIn(state, originOf(request, options.publicUrl), request.ip);
      } catch (error) {
        // Too many asked from this address: the page's script shows the words, as for the others.
        if (!isGatehouseError(error)) throw error;
        return reply.code(error.status).send({ error: messageFor(error, core.clock.now()) });
      }
    });

    app.post(base, async (request, reply) => {
      const body = formBody(request.body);
      const returnTo = validReturn(body.return);
      const signed = request.unsignCookie(request.cookies[cookie] ?? '');
      reply.clearCookie(cookie, { path: '/' });
      try {
        const response = credentialJson.safeParse(body.credential);
        if (!response.success || !signed.valid || !signed.value)
          throw new GatehouseError('passkey_challenge_invalid');
        const { token } = await core.flow.signInWithPasskey({
          state: signed.value,
          origin: originOf(request, options.publicUrl),
          response: asResponse(response.data),
          clientAddress: request.ip,
          returnTo,
        });
        const previous = request.cookies[portalCookieNames(options.cookieSecure).session];
        if (previous) await core.flow.signOut(previous, request.ip);
        reply.setSession(token);
        return reply.redirect(homeFor('complete', returnTo), 303);
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        return render(reply, returnTo, messageFor(error, core.clock.now()), error.status);
      }
    });
  };
}
