import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { emailSchema } from '../../core/accounts/email.ts';
import { type Core, GatehouseError, isGatehouseError } from '../../core/index.ts';
import { MAX_PASSWORD_LENGTH } from '../../core/passwords/password-policy.ts';
import { INTERACTION_PATH } from '../../oidc/interactions.ts';
import { type FieldError, fieldErrors, formBody, summaryAndFields } from '../forms.ts';
import { messageFor } from '../messages.ts';
import { clearSessionCookie, homeFor, portalCookieNames } from '../session.ts';
import { beginVerification, type VerificationOptions } from './mfa-verification.ts';

const signInForm = z.object({
  email: emailSchema,
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});

const fieldMessages = {
  email: 'Enter your email address in the correct format, like name@example.org',
  password: 'Enter your password',
};

const LAPSED_EXEMPTION =
  'Your account no longer has an exception from multi-factor authentication (MFA). Enable MFA now: select Self-enrol.';

/** Only single sign-on interactions of this portal can be returned to: no open redirect. */
export function validReturn(value: unknown): string | null {
  return typeof value === 'string' && INTERACTION_PATH.test(value) ? value : null;
}

export interface SignInOptions {
  cookieSecure: boolean;
  /** Smartcard sign-in is configured, so the page offers `Log in with my Care identity`. */
  careIdentity: boolean;
  verification: VerificationOptions;
}

export function signInRoutes(core: Core, options: SignInOptions) {
  const { cookieSecure, careIdentity } = options;
  const begin = beginVerification(core, options.verification);
  return async (app: FastifyInstance) => {
    app.get('/signin', async (request, reply) => {
      const query = request.query as { return?: unknown; reauth?: unknown };
      const returnTo = validReturn(query.return);
      // `reauth`: the password is asked again although signed in (a change that needs a new
      // sign-in, or an application asking for one); the new sign-in replaces the session.
      const reauth = query.reauth === '1';
      const auth = request.auth;
      if (auth && !reauth) {
        if (returnTo) await core.flow.returnTo(auth, returnTo);
        return reply.redirect(homeFor(auth.session.stage, returnTo ?? auth.session.returnTo), 303);
      }
      return reply.page('signin', { title: 'Sign in', returnTo, careIdentity, reauth });
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

      let result: Awaited<ReturnType<Core['flow']['signIn']>>;
      try {
        result = await core.flow.signIn({ ...parsed.data, clientAddress: request.ip, returnTo });
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        // Only the sign-in failure's own words: nothing tells which accounts exist.
        const shown = ['account_locked', 'client_throttled'].includes(error.code)
          ? error
          : new GatehouseError('invalid_credentials');
        return showErrors([{ field: 'email', text: messageFor(shown, core.clock.now()) }], shown.status);
      }
      // A new token at every sign-in: a token planted before sign-in is never promoted.
      const previous = request.cookies[portalCookieNames(cookieSecure).session];
      if (previous) await core.flow.signOut(previous, request.ip);
      reply.setSession(result.token);
      if (result.stage === 'complete' && !returnTo) {
        // The exemption register: an exemption past its review date asks the user to enrol now.
        const lapsed = await core.enrolment.lapsedExemption(result.account);
        const active = lapsed && (await core.flow.resume(result.token, request.ip));
        if (active) {
          await core.flow.setFlash(active.session, LAPSED_EXEMPTION);
          return reply.redirect('/profile/self-service', 303);
        }
      }
      if (result.stage !== 'verify_mfa') return reply.redirect(homeFor(result.stage, returnTo), 303);
      // The password POST raises the second factor at once (the guide: the PC shows a number).
      request.auth = await core.flow.resume(result.token, request.ip);
      return begin(request, reply);
    });

    app.post('/signout', async (request, reply) => {
      const token = request.cookies[portalCookieNames(cookieSecure).session];
      if (token) await core.flow.signOut(token, request.ip);
      clearSessionCookie(reply, cookieSecure);
      return reply.redirect('/signin', 303);
    });
  };
}
