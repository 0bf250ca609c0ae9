import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type Core, isGatehouseError } from '../../core/index.ts';
import type { PhoneChallenge, Session } from '../../core/model.ts';
import { formBody, summaryAndFields } from '../forms.ts';
import { callProblem, dialProblem } from '../phone-problems.ts';
import { signedIn } from '../session.ts';

export interface PhonePagesPlace {
  base: string;
  purpose: PhoneChallenge['purpose'];
  caption: string;
  /** Where the user goes once the phone is verified. */
  next(session: Session): string;
}

/**
 * The call and text pages, mounted for registration (/mfa/register/phone) and for signing in
 * (/mfa/verify/phone): "We're calling...", press #, then Next; or the code from a text.
 */
export function registerPhoneChallengePages(app: FastifyInstance, core: Core, place: PhonePagesPlace): void {
  const { base, purpose } = place;

  async function view(request: FastifyRequest) {
    const { session } = signedIn(request);
    const challenge = await core.phone.state(session, purpose);
    const method = challenge ? await core.store.methods.find(challenge.methodId) : undefined;
    const office = (method?.data as { office?: boolean } | undefined)?.office === true;
    return { challenge, number: method?.label ?? '', canText: core.phone.settings.allowTexts && !office };
  }

  /** Signing in moves on by itself once the call is confirmed; registration waits for Next. */
  async function completeIfConfirmed(request: FastifyRequest, challenge: PhoneChallenge | undefined) {
    if (purpose !== 'sign_in' || challenge?.status !== 'confirmed') return false;
    const { account, session } = signedIn(request);
    await core.completeMfa(account, session, challenge.channel === 'sms' ? 'sms' : 'tel', request.ip);
    return true;
  }

  app.get(`${base}/call`, async (request, reply) => {
    const { challenge, number, canText } = await view(request);
    if (!challenge) return reply.redirect(purpose === 'sign_in' ? '/mfa/verify' : '/mfa/register/phone', 303);
    if (await completeIfConfirmed(request, challenge))
      return reply.redirect(place.next(signedIn(request).session), 303);
    const status = challenge.status;
    return reply.page('phone-call', {
      title: status === 'pending' ? 'We are calling your phone' : callProblem(status).heading,
      caption: place.caption,
      base,
      status,
      number,
      canText,
      problem: callProblem(status),
    });
  });

  app.get(`${base}/status`, async (request) => {
    const { challenge } = await view(request);
    const done = await completeIfConfirmed(request, challenge);
    return {
      status: challenge?.status ?? 'none',
      next: done ? place.next(signedIn(request).session) : `${base}/call`,
    };
  });

  app.post(`${base}/check`, async (_request, reply) => reply.redirect(`${base}/call`, 303));

  for (const [path, channel] of [
    ['retry', 'call'],
    ['text', 'sms'],
  ] as const) {
    app.post(`${base}/${path}`, async (request, reply) => {
      const { account, session } = signedIn(request);
      try {
        await core.phone.retry(account, session, purpose, channel, request.ip);
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        // Too many calls: wait. The network failing (the provider down): try again soon.
        const blocked = error.code === 'phone_blocked';
        return reply.page(
          'error',
          {
            title: blocked ? 'Please wait' : 'We could not contact your phone',
            heading: 'We could not contact your phone',
            paragraphs: [dialProblem(error.code)],
            backLink: { href: `${base}/${channel === 'sms' ? 'code' : 'call'}`, text: 'Go back' },
          },
          blocked ? 429 : 503,
        );
      }
      return reply.redirect(`${base}/${channel === 'sms' ? 'code' : 'call'}`, 303);
    });
  }

  app.get(`${base}/code`, async (request, reply) => renderCode(request, reply));

  app.post(`${base}/code`, async (request, reply) => {
    const { account, session } = signedIn(request);
    const code = z.string().max(20).catch('').parse(formBody(request.body).code);
    try {
      await core.phone.verifyText(account, session, purpose, code, request.ip);
    } catch (error) {
      if (!isGatehouseError(error)) throw error;
      const text =
        error.code === 'too_many_attempts'
          ? 'Too many wrong codes. Wait 15 minutes, then try again'
          : 'The code is not correct, or has expired. Enter the 6-digit code from the latest text message';
      return renderCode(request, reply, text);
    }
    await core.completeMfa(account, session, 'sms', request.ip);
    return reply.redirect(place.next(session), 303);
  });

  app.post(`${base}/finish`, async (request, reply) => {
    const { account, session } = signedIn(request);
    const { challenge } = await view(request);
    if (challenge?.status !== 'confirmed') return reply.redirect(`${base}/call`, 303);
    await core.completeMfa(account, session, 'tel', request.ip);
    return reply.redirect(place.next(session), 303);
  });

  async function renderCode(request: FastifyRequest, reply: FastifyReply, problem?: string) {
    const { number } = await view(request);
    const errors = problem ? [{ field: 'code', text: problem }] : [];
    return reply.page(
      'phone-code',
      { title: 'Enter code', caption: place.caption, base, number, ...summaryAndFields(errors) },
      problem ? 400 : 200,
    );
  }
}
