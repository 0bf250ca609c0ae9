import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { emailSchema } from '../../core/accounts/email.ts';
import { type Core, GatehouseError, isGatehouseError } from '../../core/index.ts';
import type { PhoneChallenge } from '../../core/model.ts';
import { MAX_PASSWORD_LENGTH } from '../../core/passwords/password-policy.ts';
import type { ResetHandle } from '../../core/recovery/password-reset.ts';
import { type FieldError, formBody, summaryAndFields } from '../forms.ts';
import { messageFor } from '../messages.ts';
import { callProblem, callTitle } from '../phone-problems.ts';

const BASE = '/signin/forgot';
/** A reset's id, as in its address. */
export const resetIdPattern = /^[A-Za-z0-9_-]{20,100}$/;
const idParam = z.object({ id: z.string().regex(resetIdPattern) });
const codeField = z.string().trim().max(20).catch('');
const passwordForm = z.object({
  next: z
    .string()
    .min(1)
    .max(MAX_PASSWORD_LENGTH * 4),
  confirm: z.string().max(MAX_PASSWORD_LENGTH * 4),
});

/** What the factors proved so far are called on the pages. */
const factorWords = { app: 'the authenticator app', phone: 'your phone', smartcard: 'your smartcard' };

/**
 * Forgotten password on the sign-in page: an email address, then two different registered
 * factors (the app, by its number or a code; the phone, by a text), then a new password. The
 * reset lives in the database and is bound to this browser by a cookie of its own.
 */
/** A refused reset or step: said plainly, with the way to start again. */
export function resetRefusal(reply: FastifyReply, error: GatehouseError, now: Date) {
  return reply.page(
    'error',
    {
      title: 'Reset your password',
      heading: 'You cannot continue this password reset',
      paragraphs: [messageFor(error, now)],
      backLink: { href: BASE, text: 'Start again' },
    },
    error.status,
  );
}

/** The cookie that binds a reset to the browser that began it (its secret half). */
export const resetCookieName = (cookieSecure: boolean) => `${cookieSecure ? '__Host-' : ''}gatehouse_reset`;

export function passwordResetRoutes(core: Core, options: { cookieSecure: boolean; smartcard: boolean }) {
  const cookie = resetCookieName(options.cookieSecure);
  const reset = core.passwordReset;

  return async (app: FastifyInstance) => {
    const handleOf = (request: FastifyRequest): ResetHandle => ({
      id: idParam.parse(request.params).id,
      browserSecret: String(request.cookies[cookie] ?? '').slice(0, 100),
      clientAddress: request.ip,
    });
    const at = (request: FastifyRequest, step = '') => `${BASE}/${handleOf(request).id}${step}`;

    const refused = (reply: FastifyReply, error: GatehouseError) =>
      resetRefusal(reply, error, core.clock.now());

    /** Runs a step; a GatehouseError of the reset itself becomes the refusal page. */
    async function step(reply: FastifyReply, work: () => Promise<FastifyReply>) {
      try {
        return await work();
      } catch (error) {
        if (isGatehouseError(error, 'reset_invalid') || isGatehouseError(error, 'reset_step_not_allowed'))
          return refused(reply, error);
        throw error;
      }
    }

    app.get(BASE, async (_request, reply) => reply.page('reset-start', { title: 'Reset your password' }));

    app.post(BASE, async (request, reply) => {
      const email = emailSchema.safeParse(formBody(request.body).email);
      if (!email.success)
        return reply.page(
          'reset-start',
          {
            title: 'Reset your password',
            ...summaryAndFields([
              {
                field: 'email',
                text: 'Enter your email address in the correct format, like name@example.org',
              },
            ]),
          },
          400,
        );
      let handle: Awaited<ReturnType<typeof reset.start>>;
      try {
        handle = await reset.start({ email: email.data, clientAddress: request.ip });
      } catch (error) {
        if (!isGatehouseError(error, 'reset_throttled')) throw error;
        return reply.page(
          'error',
          {
            title: 'Reset your password',
            heading: 'You cannot reset a password now',
            paragraphs: [messageFor(error, core.clock.now())],
            backLink: { href: '/signin', text: 'Back to sign in' },
          },
          error.status,
        );
      }
      reply.setCookie(cookie, handle.browserSecret, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: options.cookieSecure,
      });
      return reply.redirect(`${BASE}/${handle.id}`, 303);
    });

    app.get(`${BASE}/:id`, async (request, reply) =>
      step(reply, async () => {
        const state = await reset.state(handleOf(request));
        if (state.ready) return reply.redirect(at(request, '/password'), 303);
        if (!state.possible)
          return reply.page('error', {
            title: 'Reset your password',
            heading: 'Contact the service desk',
            paragraphs: [
              'To reset your password here, you must have two sign-in methods registered, such as the authenticator app and a phone.',
              'Contact your IT service desk: they can check who you are and give you a Temporary Access Pass.',
            ],
            ...(options.smartcard && state.smartcard
              ? { link: { href: at(request, '/smartcard'), text: 'I have a smartcard: use it' } }
              : {}),
            backLink: { href: '/signin', text: 'Back to sign in' },
          });
        return reply.page('reset-choose', {
          title: 'Prove it is you',
          base: at(request),
          step: state.proved.length + 1,
          proved: state.proved.map((f) => factorWords[f]),
          app: state.methods.includes('authenticator_app'),
          code: state.methods.includes('totp'),
          phone: state.methods.includes('phone'),
          texts: core.phone.settings.allowTexts,
          smartcard: options.smartcard && state.smartcard,
        });
      }),
    );

    app.post(`${BASE}/:id/app`, async (request, reply) =>
      step(reply, async () => {
        try {
          await reset.startChallenge(handleOf(request), 'authenticator_app', {
            application: 'Password reset',
          });
        } catch (error) {
          if (isGatehouseError(error, 'no_push_device')) return reply.redirect(at(request, '/code'), 303);
          throw error;
        }
        return reply.redirect(at(request, '/app'), 303);
      }),
    );

    app.get(`${BASE}/:id/app`, async (request, reply) =>
      step(reply, async () => {
        const outcome = await reset.finishChallenge(handleOf(request), 'authenticator_app', {});
        if (outcome.proved) return reply.redirect(at(request), 303);
        const pending = outcome.view as { number: string; status: string } | undefined;
        return reply.page('reset-app', {
          title: 'Approve the request in the app',
          base: at(request),
          number: pending?.status === 'pending' ? pending.number : undefined,
        });
      }),
    );

    app.get(`${BASE}/:id/code`, async (request, reply) =>
      step(reply, async () => {
        await reset.state(handleOf(request));
        return codePage(reply, at(request), 'totp');
      }),
    );

    app.post(`${BASE}/:id/code`, async (request, reply) =>
      step(reply, async () => {
        const code = codeField.parse(formBody(request.body).code);
        try {
          await reset.finishChallenge(handleOf(request), 'totp', { code });
        } catch (error) {
          if (!isGatehouseError(error) || error.code.startsWith('reset_')) throw error;
          return codePage(reply, at(request), 'totp', messageFor(error, core.clock.now()), error.status);
        }
        return reply.redirect(at(request), 303);
      }),
    );

    /** Texts a code to the phone (also offered on the call page). */
    async function startText(request: FastifyRequest, reply: FastifyReply) {
      try {
        await reset.startChallenge(handleOf(request), 'phone', { channel: 'sms' });
      } catch (error) {
        if (!isGatehouseError(error) || error.code.startsWith('reset_')) throw error;
        return codePage(
          reply,
          at(request),
          'phone',
          messageFor(error, core.clock.now(), 'dial'),
          error.status,
        );
      }
      return reply.redirect(at(request, '/text'), 303);
    }

    app.post(`${BASE}/:id/text`, async (request, reply) => step(reply, () => startText(request, reply)));

    /** The reset's call as it stands: proved (its factor counted) or the call page's view. */
    async function callState(request: FastifyRequest) {
      // Proved already (by the waiting page's script, or in another tab): on to the next step.
      if ((await reset.state(handleOf(request))).proved.includes('phone')) return { proved: true as const };
      const outcome = await reset.finishChallenge(handleOf(request), 'phone', {});
      if (outcome.proved) return { proved: true as const };
      const challenge = outcome.view as PhoneChallenge | undefined;
      return { proved: false as const, challenge };
    }

    /** Calls the phone (the guide's way: answer, press #), as a first or a new call. */
    async function startCall(request: FastifyRequest, reply: FastifyReply) {
      try {
        await reset.startChallenge(handleOf(request), 'phone', { channel: 'call' });
      } catch (error) {
        if (!isGatehouseError(error) || error.code.startsWith('reset_')) throw error;
        return reply.page(
          'error',
          {
            title: 'We could not call your phone',
            heading: 'We could not call your phone',
            paragraphs: [messageFor(error, core.clock.now(), 'dial')],
            backLink: { href: at(request), text: 'Choose a different method' },
          },
          error.status,
        );
      }
      return reply.redirect(at(request, '/call'), 303);
    }

    app.post(`${BASE}/:id/call`, async (request, reply) => step(reply, () => startCall(request, reply)));
    app.post(`${BASE}/:id/call/retry`, async (request, reply) =>
      step(reply, () => startCall(request, reply)),
    );
    app.post(`${BASE}/:id/call/check`, async (request, reply) =>
      step(reply, async () => reply.redirect(at(request, '/call'), 303)),
    );
    app.post(`${BASE}/:id/call/text`, async (request, reply) => step(reply, () => startText(request, reply)));

    app.get(`${BASE}/:id/call`, async (request, reply) =>
      step(reply, async () => {
        const state = await callState(request);
        if (state.proved) return reply.redirect(at(request), 303);
        if (state.challenge?.channel !== 'call') return reply.redirect(at(request), 303);
        const number = await core.phone.numberOf(state.challenge);
        const status = state.challenge.status;
        return reply.page('phone-call', {
          title: callTitle(status),
          caption: 'Reset your password',
          base: at(request, '/call'),
          status,
          number: number.label,
          canText: core.phone.settings.allowTexts && !number.office,
          problem: callProblem(status),
        });
      }),
    );

    // For the waiting page's script: moves on by itself once # was pressed.
    app.get(`${BASE}/:id/call/status`, async (request, reply) =>
      step(reply, async () => {
        const state = await callState(request);
        if (state.proved) return reply.send({ status: 'confirmed', next: at(request) });
        return reply.send({ status: state.challenge?.status ?? 'none', next: at(request, '/call') });
      }),
    );

    app.get(`${BASE}/:id/text`, async (request, reply) =>
      step(reply, async () => {
        await reset.state(handleOf(request));
        return codePage(reply, at(request), 'phone');
      }),
    );

    app.post(`${BASE}/:id/text/code`, async (request, reply) =>
      step(reply, async () => {
        const code = codeField.parse(formBody(request.body).code);
        let proved = false;
        try {
          proved = (await reset.finishChallenge(handleOf(request), 'phone', { code })).proved;
        } catch (error) {
          if (!isGatehouseError(error) || error.code.startsWith('reset_')) throw error;
          return codePage(
            reply,
            at(request),
            'phone',
            messageFor(error, core.clock.now(), 'text'),
            error.status,
          );
        }
        if (!proved)
          return codePage(
            reply,
            at(request),
            'phone',
            messageFor(new GatehouseError('invalid_code'), core.clock.now(), 'text'),
            400,
          );
        return reply.redirect(at(request), 303);
      }),
    );

    const passwordPage = (reply: FastifyReply, base: string, errors: FieldError[] = [], status = 200) =>
      reply.page(
        'reset-password',
        { title: 'Choose a new password', base, ...summaryAndFields(errors) },
        status,
      );

    app.get(`${BASE}/:id/password`, async (request, reply) =>
      step(reply, async () => {
        const state = await reset.state(handleOf(request));
        if (!state.ready) return reply.redirect(at(request), 303);
        return passwordPage(reply, at(request));
      }),
    );

    app.post(`${BASE}/:id/password`, async (request, reply) =>
      step(reply, async () => {
        const parsed = passwordForm.safeParse(formBody(request.body));
        if (!parsed.success)
          return passwordPage(reply, at(request), [{ field: 'next', text: 'Enter a new password' }], 400);
        if (parsed.data.next !== parsed.data.confirm)
          return passwordPage(
            reply,
            at(request),
            [{ field: 'confirm', text: 'The new passwords do not match' }],
            400,
          );
        try {
          await reset.choosePassword(handleOf(request), parsed.data.next);
        } catch (error) {
          if (!isGatehouseError(error) || error.code.startsWith('reset_')) throw error;
          return passwordPage(
            reply,
            at(request),
            [{ field: 'next', text: messageFor(error, core.clock.now()) }],
            error.status,
          );
        }
        reply.clearCookie(cookie, {
          path: '/',
          httpOnly: true,
          sameSite: 'lax',
          secure: options.cookieSecure,
        });
        return reply.page('error', {
          title: 'Your password has been reset',
          heading: 'Your password has been reset',
          paragraphs: [
            'Sign in with your new password. Your sign-in methods have not changed: you will still be asked for your second factor.',
            'Every other session of your account has ended.',
          ],
          backLink: { href: '/signin', text: 'Sign in' },
        });
      }),
    );

    function codePage(
      reply: FastifyReply,
      base: string,
      kind: 'totp' | 'phone',
      problem?: string,
      status = 200,
    ) {
      const errors = problem ? [{ field: 'code', text: problem }] : [];
      return reply.page(
        'reset-code',
        {
          title: kind === 'totp' ? 'Enter a code from the app' : 'Enter the code we texted you',
          heading: kind === 'totp' ? 'Enter a code from the app' : 'Enter the code we texted you',
          hint:
            kind === 'totp'
              ? 'The 6-digit code the authenticator app shows now.'
              : 'The 6-digit code in the text message we sent to your phone.',
          action: kind === 'totp' ? `${base}/code` : `${base}/text/code`,
          base,
          ...summaryAndFields(errors),
        },
        status,
      );
    }
  };
}
