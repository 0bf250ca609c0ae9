import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type CountryCode, getCountryCallingCode } from 'libphonenumber-js';
import { z } from 'zod';
import { type Core, isGatehouseError } from '../../core/index.ts';
import { EXAMPLE_NUMBERS } from '../../core/methods/phone/phone-number.ts';
import { formBody, summaryAndFields } from '../forms.ts';
import { hasMessage, messageFor, phoneCountryMessage } from '../messages.ts';
import { pathPastRefusal, requireStage, signedIn } from '../session.ts';
import { callPhone } from './mfa-verification.ts';
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
          examples: EXAMPLE_NUMBERS,
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
      const parsed = phoneForm.safeParse(formBody(request.body));
      if (!parsed.success)
        return render(request, reply, false, {
          problem: messageFor({ code: 'phone_invalid', details: {}, shown: true }, core.clock.now()),
        });
      const { country, number, channel, office } = parsed.data;
      try {
        await core.flow.startEnrolment(
          signedIn(request),
          'phone',
          { number: { country, number, channel, office: office === '1' } },
          request.ip,
        );
      } catch (error) {
        const past = await pathPastRefusal(core, request, error, '/mfa/register/phone');
        if (past) return reply.redirect(past, 303);
        if (!isGatehouseError(error) || !error.code.startsWith('phone_') || !hasMessage(error.code))
          throw error;
        return render(request, reply, office === '1', {
          number: number.slice(0, 32),
          problem:
            error.code === 'phone_country_not_allowed'
              ? phoneCountryMessage(error.details)
              : messageFor(error, core.clock.now()),
        });
      }
      return reply.redirect(`/mfa/register/phone/${channel === 'sms' ? 'code' : 'call'}`, 303);
    });

    registerPhoneChallengePages(app, core, {
      base: '/mfa/register/phone',
      purpose: 'registration',
      caption: 'Multi-factor authentication',
      next: '/mfa/register/app-password',
    });
  };
}

/** Signing in with the phone: a call to the default phone, or a text when asked. */
export function phoneVerificationRoutes(core: Core) {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireStage('verify_mfa'));
    // A GET only shows the session's call: dialling takes the POST of `Call my phone instead`.
    app.get('/mfa/verify/phone', async (request, reply) => {
      const challenge = await core.phone.state(signedIn(request).session, 'sign_in');
      return reply.redirect(`/mfa/verify/phone/${challenge?.channel === 'sms' ? 'code' : 'call'}`, 303);
    });
    app.post('/mfa/verify/phone', async (request, reply) => callPhone(core, request, reply));
    registerPhoneChallengePages(app, core, {
      base: '/mfa/verify/phone',
      purpose: 'sign_in',
      caption: 'Sign in',
      next: '/',
    });
  };
}
