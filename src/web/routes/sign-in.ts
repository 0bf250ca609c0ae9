import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { emailSchema } from '../../core/accounts/email.ts';
import { type Core, isGatehouseError } from '../../core/index.ts';
import { MAX_PASSWORD_LENGTH } from '../../core/passwords/password-policy.ts';
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

export function signInRoutes(core: Core, cookieSecure: boolean) {
  return async (app: FastifyInstance) => {
    app.get('/signin', async (request, reply) => {
      if (request.auth) return reply.redirect(homeFor(request.auth.session.stage), 303);
      return reply.page('signin', { title: 'Sign in' });
    });

    app.post('/signin', async (request, reply) => {
      const body = formBody(request.body);
      const parsed = signInForm.safeParse(body);
      const showErrors = (errors: FieldError[], status: number) =>
        reply.page(
          'signin',
          { title: 'Sign in', email: body.email?.slice(0, 254), ...summaryAndFields(errors) },
          status,
        );
      if (!parsed.success) return showErrors(fieldErrors(parsed.error, fieldMessages), 400);

      try {
        const result = await core.signIn({ ...parsed.data, clientAddress: request.ip });
        // A new token at every sign-in: a token planted before sign-in is never promoted.
        const previous = request.cookies[SESSION_COOKIE];
        if (previous) await core.sessions.signOut(previous, request.ip);
        setSessionCookie(reply, result.token, cookieSecure);
        return reply.redirect(homeFor(result.stage), 303);
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
