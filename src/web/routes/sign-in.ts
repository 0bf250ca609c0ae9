import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { emailSchema } from '../../core/accounts/email.ts';
import { type Core, isGatehouseError } from '../../core/index.ts';
import { MAX_PASSWORD_LENGTH } from '../../core/passwords/password-policy.ts';
import { INTERACTION_PATH } from '../../oidc/interactions.ts';
import { type FieldError, fieldErrors, formBody, summaryAndFields } from '../forms.ts';
import { messageFor, minutesUntil } from '../messages.ts';
import { clearSessionCookie, homeFor, SESSION_COOKIE, setSessionCookie } from '../session.ts';

const signInForm = z.object({
  email: emailSchema,
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});

const fieldMessages = {
  email: 'Enter your email address in the correct format, like name@example.org',
  password: 'Enter your password',
};

/** Only single sign-on interactions of this portal can be returned to: no open redirect. */
export function validReturn(value: unknown): string | null {
  return typeof value === 'string' && INTERACTION_PATH.test(value) ? value : null;
}

/** `careIdentity`: smartcard sign-in is configured, so the page offers `Log in with my Care identity`. */
export function signInRoutes(core: Core, cookieSecure: boolean, careIdentity = false) {
  return async (app: FastifyInstance) => {
    app.get('/signin', async (request, reply) => {
      const returnTo = validReturn((request.query as { return?: unknown }).return);
      const auth = request.auth;
      // reauth=1: single sign-on asks for the password again (prompt=login, max_age): the form,
      // though signed in; signing in replaces the session.
      const reauth = returnTo !== null && (request.query as { reauth?: unknown }).reauth === '1';
      if (auth && !reauth) {
        if (returnTo) await core.store.sessions.setReturnTo(auth.session.idHash, returnTo);
        return reply.redirect(homeFor(auth.session.stage, returnTo ?? auth.session.returnTo), 303);
      }
      return reply.page('signin', { title: 'Sign in', returnTo, careIdentity });
    });

    app.post('/signin', async (request, reply) => {
      const body = formBody(request.body);
      const parsed = signInForm.safeParse(body);
      const returnTo = validReturn(body.return);
      const showErrors = (errors: FieldError[], status: number) =>
        reply.page(
          'signin',
          {
            title: 'Sign in',
            email: body.email?.slice(0, 254),
            returnTo,
            careIdentity,
            ...summaryAndFields(errors),
          },
          status,
        );
      if (!parsed.success) return showErrors(fieldErrors(parsed.error, fieldMessages), 400);

      try {
        const result = await core.signIn({ ...parsed.data, clientAddress: request.ip, returnTo });
        // A new token at every sign-in: a token planted before sign-in is never promoted.
        const previous = request.cookies[SESSION_COOKIE];
        if (previous) await core.sessions.signOut(previous, request.ip);
        setSessionCookie(reply, result.token, cookieSecure);
        return reply.redirect(homeFor(result.stage, returnTo), 303);
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        const template = messageFor(error.code);
        const text = template.replace('{minutes}', minutesUntil(error.details.until, core.clock.now()));
        const status = error.code === 'invalid_credentials' ? 401 : 429;
        return showErrors([{ field: 'email', text }], status);
      }
    });

    app.post('/signout', async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      if (token) await core.sessions.signOut(token, request.ip);
      clearSessionCookie(reply, cookieSecure);
      return reply.redirect('/signin', 303);
    });
  };
}
