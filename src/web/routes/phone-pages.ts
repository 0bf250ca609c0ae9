import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type Core, isGatehouseError } from '../../core/index.ts';
import type { PhoneChallenge, PhoneChannel } from '../../core/model.ts';
import { formBody, summaryAndFields } from '../forms.ts';
import { messageFor } from '../messages.ts';
import { callProblem, callTitle } from '../phone-problems.ts';
import { afterProof, pathPastRefusal, signedIn } from '../session.ts';

const codeField = z.string().max(20).catch('');

export interface PhonePagesPlace {
  base: string;
  purpose: PhoneChallenge['purpose'];
  caption: string;
  /** Where the user goes once the phone is verified, in registration (signing in goes back where it was going). */
  next: string;
}

const PHONE_UNAVAILABLE =
  'We could not call or text your phone right now. Try again later, or choose a different method';

/**
 * The call and text pages, mounted for registration (/mfa/register/phone) and for signing in
 * (/mfa/verify/phone): "We're calling...", press #, then Next; or the code from a text.
 */
export function registerPhoneChallengePages(app: FastifyInstance, core: Core, place: PhonePagesPlace): void {
  const { base, purpose } = place;

  async function view(request: FastifyRequest) {
    const { session } = signedIn(request);
    const challenge = await core.phone.state(session, purpose);
    const number = challenge ? await core.phone.numberOf(challenge) : { label: '', office: false };
    return { challenge, number: number.label, canText: core.phone.settings.allowTexts && !number.office };
  }

  /** The session's call or text as it stands, consumed as its proof once confirmed. */
  async function finish(request: FastifyRequest, code?: string) {
    const active = signedIn(request);
    const input = code === undefined ? {} : { code };
    return purpose === 'sign_in'
      ? core.flow.finishChallenge(active, 'phone', input, request.ip)
      : core.flow.finishEnrolment(active, 'phone', input, request.ip);
  }

  /** Where a proved phone leads: back to where the sign-in was going, or on in the wizard. */
  async function onward(request: FastifyRequest, reply: FastifyReply, token: string) {
    const next = await afterProof(core, request, reply, token);
    return purpose === 'sign_in' ? next : place.next;
  }

  app.get(`${base}/call`, async (request, reply) => {
    const { challenge, number, canText } = await view(request);
    if (!challenge) return reply.redirect(purpose === 'sign_in' ? '/mfa/verify' : '/mfa/register/phone', 303);
    // Signing in moves on by itself once the call is confirmed; registration waits for Next.
    if (purpose === 'sign_in' && challenge.status === 'confirmed') {
      const outcome = await finish(request);
      if (outcome.status === 'proved')
        return reply.redirect(await onward(request, reply, outcome.token), 303);
    }
    const status = challenge.status;
    return reply.page('phone-call', {
      title: callTitle(status),
      caption: place.caption,
      base,
      status,
      number,
      canText,
      problem: callProblem(status),
    });
  });

  app.get(`${base}/status`, async (request, reply) => {
    const { challenge } = await view(request);
    if (purpose === 'sign_in' && challenge?.status === 'confirmed') {
      const outcome = await finish(request);
      if (outcome.status === 'proved')
        return { status: 'confirmed', next: await onward(request, reply, outcome.token) };
    }
    return { status: challenge?.status ?? 'none', next: `${base}/call` };
  });

  app.post(`${base}/check`, async (_request, reply) => reply.redirect(`${base}/call`, 303));

  for (const [path, channel] of [
    ['retry', 'call'],
    ['text', 'sms'],
  ] as const satisfies [string, PhoneChannel][]) {
    app.post(`${base}/${path}`, async (request, reply) => {
      const active = signedIn(request);
      try {
        if (purpose === 'sign_in') await core.flow.startChallenge(active, 'phone', { channel }, request.ip);
        else await core.flow.startEnrolment(active, 'phone', { again: channel }, request.ip);
      } catch (error) {
        const past = await pathPastRefusal(core, request, error, base);
        if (past) return reply.redirect(past, 303);
        if (!isGatehouseError(error)) throw error;
        // Too many calls: wait. The network failing (the provider down): try again soon.
        return reply.page(
          'error',
          {
            title: error.code === 'phone_blocked' ? 'Please wait' : 'We could not contact your phone',
            heading: 'We could not contact your phone',
            paragraphs: [messageFor(error, core.clock.now(), 'dial', PHONE_UNAVAILABLE)],
            backLink: { href: `${base}/${channel === 'sms' ? 'code' : 'call'}`, text: 'Go back' },
          },
          // A number that cannot be dialled now is the service's refusal, not a bad form.
          error.code === 'phone_blocked' ? 429 : 503,
        );
      }
      return reply.redirect(`${base}/${channel === 'sms' ? 'code' : 'call'}`, 303);
    });
  }

  app.get(`${base}/code`, async (request, reply) => renderCode(request, reply));

  app.post(`${base}/code`, async (request, reply) => {
    const code = codeField.parse(formBody(request.body).code);
    try {
      const outcome = await finish(request, code);
      if (outcome.status === 'proved')
        return reply.redirect(await onward(request, reply, outcome.token), 303);
      return renderCode(
        request,
        reply,
        messageFor({ code: 'invalid_code', details: {}, shown: true }, core.clock.now(), 'text'),
      );
    } catch (error) {
      const past = await pathPastRefusal(core, request, error, `${base}/code`);
      if (past) return reply.redirect(past, 303);
      if (!isGatehouseError(error)) throw error;
      return renderCode(request, reply, messageFor(error, core.clock.now(), 'text'), error.status);
    }
  });

  app.post(`${base}/finish`, async (request, reply) => {
    try {
      const outcome = await finish(request);
      if (outcome.status !== 'proved') return reply.redirect(`${base}/call`, 303);
      return reply.redirect(await onward(request, reply, outcome.token), 303);
    } catch (error) {
      const past = await pathPastRefusal(core, request, error, `${base}/call`);
      if (past) return reply.redirect(past, 303);
      throw error;
    }
  });

  async function renderCode(request: FastifyRequest, reply: FastifyReply, problem?: string, status = 400) {
    const { number } = await view(request);
    const errors = problem ? [{ field: 'code', text: problem }] : [];
    return reply.page(
      'phone-code',
      { title: 'Enter code', caption: place.caption, base, number, ...summaryAndFields(errors) },
      problem ? status : 200,
    );
  }
}
