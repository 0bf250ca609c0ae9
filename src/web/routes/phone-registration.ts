import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type CountryCode, getCountryCallingCode } from 'libphonenumber-js';
import { z } from 'zod';
import { type Core, isGatehouseError } from '../../core/index.ts';
import { formBody, summaryAndFields } from '../forms.ts';
import { dialProblem, phoneNumberMessages } from '../phone-problems.ts';
import { homeFor, requireStage, signedIn } from '../session.ts';
import { registerPhoneChallengePages } from './phone-pages.ts';

const countryNames = new Intl.DisplayNames(['en-GB'], { type: 'region' });

const phoneForm = z.object({
  country: z.string().regex(/^[A-Z]{2}$/),
  number: z.string().max(32),
  channel: z.enum(['call', 'sms']).default('call'),
  office: z.enum(['0', '1']).default('0'),
});

/** The guide 002: Phone > Confirm > country code and mobile number > Call me > press # > Next. */
export function phoneRegistrationRoutes(core: Core) {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireStage('register_mfa', 'complete'));
    const settings = core.phone.settings;

    const render = (
      request: FastifyRequest,
      reply: FastifyReply,
      office: boolean,
      values: { number?: string; problem?: string } = {},
    ) => {
      const countries = settings.allowedCountries.map((code) => ({
        value: code,
        text: `${countryNames.of(code) ?? code} (+${getCountryCallingCode(code as CountryCode)})`,
      }));
      const channels = [];
      if (settings.allowCalls || office) channels.push({ value: 'call', text: 'Call me', checked: false });
      if (settings.allowTexts && !office)
        channels.push({ value: 'sms', text: 'Text me a code', checked: false });
      if (channels[0]) channels[0].checked = true;
      const errors = values.problem ? [{ field: 'number', text: values.problem }] : [];
      void request;
      return reply.page(
        'phone-number',
        {
          title: office ? 'Office phone' : 'Phone',
          office,
          countries,
          channels,
          number: values.number,
          ...summaryAndFields(errors),
        },
        values.problem ? 400 : 200,
      );
    };

    app.get('/mfa/register/phone', async (request, reply) => {
      const office = (request.query as { office?: unknown }).office === '1' && settings.allowOfficePhone;
      return render(request, reply, office);
    });

    app.post('/mfa/register/phone', async (request, reply) => {
      const { account, session } = signedIn(request);
      const parsed = phoneForm.safeParse(formBody(request.body));
      if (!parsed.success)
        return render(request, reply, false, { problem: phoneNumberMessages.phone_invalid });
      const { country, number, channel, office } = parsed.data;
      try {
        await core.phone.register(
          account,
          session,
          { country, number, channel, office: office === '1' },
          request.ip,
        );
      } catch (error) {
        if (!isGatehouseError(error) || !phoneNumberMessages[error.code]) throw error;
        return render(request, reply, office === '1', {
          number: number.slice(0, 32),
          problem: phoneNumberMessages[error.code],
        });
      }
      return reply.redirect(`/mfa/register/phone/${channel === 'sms' ? 'code' : 'call'}`, 303);
    });

    registerPhoneChallengePages(app, core, {
      base: '/mfa/register/phone',
      purpose: 'registration',
      caption: 'Multi-factor authentication',
      next: () => '/mfa/register/app-password',
    });
  };
}

/** Signing in with the phone: a call to the default phone, or a text when asked. */
export function phoneVerificationRoutes(core: Core) {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireStage('verify_mfa'));
    app.get('/mfa/verify/phone', async (request, reply) => {
      const { account, session } = signedIn(request);
      let challenge: Awaited<ReturnType<typeof core.phone.signIn>>;
      try {
        challenge = await core.phone.signIn(account, session, request.ip);
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        return reply.page(
          'error',
          {
            title: 'We could not call your phone',
            heading: 'We could not call your phone',
            paragraphs: [dialProblem(error.code)],
            backLink: { href: '/mfa/verify/code', text: 'Use a verification code' },
          },
          error.code === 'phone_blocked' ? 429 : 503,
        );
      }
      return reply.redirect(`/mfa/verify/phone/${challenge.channel === 'sms' ? 'code' : 'call'}`, 303);
    });
    registerPhoneChallengePages(app, core, {
      base: '/mfa/verify/phone',
      purpose: 'sign_in',
      caption: 'Sign in',
      next: (session) => homeFor('complete', session.returnTo),
    });
  };
}
