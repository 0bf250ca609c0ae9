import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type Core, isGatehouseError } from '../../core/index.ts';
import { formatActivationCode } from '../../core/methods/authenticator-app/activation-code.ts';
import { fieldErrors, formBody, summaryAndFields } from '../forms.ts';
import { messageFor } from '../messages.ts';
import { publicUrlOf } from '../public-url.ts';
import { pushProblem } from '../push-problems.ts';
import { qrDataUrl } from '../qr.ts';
import { homeFor, pathPastRefusal, requireStage, signedIn } from '../session.ts';
import { formatTime } from '../time-format.ts';
import { registerAppPasswordPages } from './app-password-pages.ts';
import { registerPasskeyEnrolment } from './passkeys.ts';
import { sessionEventsRoute } from './session-events.ts';

export interface RegistrationOptions {
  issuer: string;
  publicUrl?: string | undefined;
  androidAppUrl?: string | undefined;
  iphoneAppUrl?: string | undefined;
}

/** The methods offered by `I want to set up a different method`, as the operator allows them. */
function differentMethods(core: Core) {
  const methods = [
    { value: 'authenticator_app', text: 'Authenticator app' },
    { value: 'totp', text: 'Authenticator app (verification codes only)' },
    { value: 'phone', text: 'Phone' },
    { value: 'passkey', text: 'Passkey' },
  ];
  if (core.phone.settings.allowOfficePhone) methods.push({ value: 'office_phone', text: 'Office phone' });
  return methods;
}

/**
 * The drop-down's items: none is chosen until the user chooses, so `Confirm` without a choice
 * asks for one rather than quietly taking the first method.
 */
function methodChoices(core: Core) {
  return [{ value: '', text: 'Choose a method', selected: true }, ...differentMethods(core)];
}

const methodPages: Record<string, string> = {
  authenticator_app: '/mfa/register/app',
  totp: '/mfa/register/code-app',
  phone: '/mfa/register/phone',
  office_phone: '/mfa/register/phone?office=1',
  passkey: '/mfa/register/passkey',
};

/**
 * The registration wizard of the guide, part 2: Click me to enrol > Next > Download Now > Next >
 * scan the QR code > Next > the unique number > Notification approved > Next > Done.
 */
export function mfaRegistrationRoutes(core: Core, options: RegistrationOptions) {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireStage('register_mfa', 'complete'));
    // From Security info (a complete session), adding a method needs a fresh second factor; a
    // session that began before MFA was on signs in again. The wizard's own register_mfa stage is
    // checked by each step. The last steps (app password, finished) are checked where they act.
    app.addHook('preHandler', async (request, reply) => {
      const active = request.auth;
      if (active?.session.stage !== 'complete' || reply.sent) return;
      const path = request.routeOptions.url ?? '';
      if (path.startsWith('/mfa/register/app-password') || path === '/mfa/register/finished') return;
      try {
        await core.flow.mayChange(active, 'enrol_method');
      } catch (error) {
        const past = await pathPastRefusal(core, request, error, '/mfa/register/start');
        if (!past) throw error;
        return reply.redirect(past, 303);
      }
    });
    // The wizard of an account that must sign in with a passkey (its group requires one) creates
    // a passkey: the core refuses any other method there, so the pages lead straight to it.
    app.addHook('preHandler', async (request, reply) => {
      const active = request.auth;
      if (active?.session.stage !== 'register_mfa' || reply.sent || request.method !== 'GET') return;
      if (!core.flow.phishingResistantWanted(active)) return;
      if (!(request.routeOptions.url ?? '').startsWith('/mfa/register/passkey'))
        return reply.redirect('/mfa/register/passkey', 303);
    });
    const page = (
      reply: FastifyReply,
      template: string,
      title: string,
      context: Record<string, unknown> = {},
      status = 200,
    ) => reply.page(template, { title, ...context }, status);

    app.get('/mfa/register', async (_request, reply) =>
      page(reply, 'mfa-register', 'Set up multi-factor authentication'),
    );
    app.get('/mfa/register/start', async (_request, reply) =>
      page(reply, 'mfa-register-start', 'Keep your account secure'),
    );
    app.get('/mfa/register/app', async (_request, reply) =>
      page(reply, 'mfa-register-app', 'Start by getting the app'),
    );

    app.get('/mfa/register/download', async (request, reply) => {
      const base = publicUrlOf(request, options.publicUrl);
      const androidUrl = options.androidAppUrl ?? `${base}/authenticator/`;
      const iphoneUrl = options.iphoneAppUrl ?? `${base}/authenticator/`;
      return page(reply, 'mfa-download', 'Download the app', {
        androidUrl,
        iphoneUrl,
        androidQr: await qrDataUrl(androidUrl),
        iphoneQr: await qrDataUrl(iphoneUrl),
      });
    });

    app.post('/mfa/register/activation', async (request, reply) => {
      try {
        await core.flow.startEnrolment(signedIn(request), 'authenticator_app', {}, request.ip);
      } catch (error) {
        const past = await pathPastRefusal(core, request, error, '/mfa/register/app');
        if (!past) throw error;
        return reply.redirect(past, 303);
      }
      return reply.redirect('/mfa/register/scan', 303);
    });

    app.get('/mfa/register/scan', async (request, reply) => renderScan(request, reply));

    app.post('/mfa/register/scan', async (request, reply) =>
      renderScan(
        request,
        reply,
        'We have not heard from the app yet. In the app, tap + Add account, then Work or school account, then Scan QR code, and scan the QR code below.',
      ),
    );

    async function renderScan(request: FastifyRequest, reply: FastifyReply, problem?: string) {
      const state = await core.authenticatorApp.registrationState(signedIn(request).session);
      if (state.step === 'number') return reply.redirect('/mfa/register/number', 303);
      // Not started, or the code expired: a new QR code is made from the previous page.
      if (state.step !== 'waiting_for_scan') return reply.redirect('/mfa/register/app', 303);
      const base = publicUrlOf(request, options.publicUrl);
      const link = `${base}/authenticator/#activate=${base}/api/authenticator/v1/activations/${state.code}`;
      return page(
        reply,
        'mfa-register-scan',
        'Scan the QR code',
        {
          qr: await qrDataUrl(link),
          link,
          code: formatActivationCode(state.code),
          expiresAt: formatTime(state.expiresAt),
          errors: problem ? [{ text: problem, href: '#activation-link' }] : [],
        },
        problem ? 409 : 200,
      );
    }

    app.get('/mfa/register/number', async (request, reply) => {
      const state = await core.authenticatorApp.registrationState(signedIn(request).session);
      if (state.step !== 'number') return reply.redirect('/mfa/register/app', 303);
      const status = state.device.status === 'active' ? 'approved' : state.status;
      return page(
        reply,
        'mfa-register-number',
        status === 'approved' ? 'Notification approved' : "Let's try it out",
        {
          status,
          number: state.request?.number,
          problem: pushProblem(status),
        },
      );
    });

    app.get('/mfa/register/status', async (request) => {
      const state = await core.authenticatorApp.registrationState(signedIn(request).session);
      const status =
        state.step === 'number' ? (state.device.status === 'active' ? 'approved' : state.status) : state.step;
      return { status, next: '/mfa/register/number' };
    });

    sessionEventsRoute(app, core, '/mfa/register/events');

    app.post('/mfa/register/check', async (_request, reply) => reply.redirect('/mfa/register/number', 303));

    app.post('/mfa/register/retry', async (request, reply) => {
      const { account, session } = signedIn(request);
      try {
        await core.authenticatorApp.retryRegistration(account, session, request.ip);
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        if (error.code === 'device_not_found') return reply.redirect('/mfa/register/app', 303);
        return reply.page(
          'error',
          {
            title: 'Please wait',
            heading: 'Please wait before trying again',
            paragraphs: [pushProblem(error.code === 'push_blocked' ? 'blocked' : 'too_many').text],
          },
          429,
        );
      }
      return reply.redirect('/mfa/register/number', 303);
    });

    // Next after `Notification approved`: this session's own approved request is its proof.
    app.post('/mfa/register/finish', async (request, reply) => {
      try {
        const outcome = await core.flow.finishEnrolment(
          signedIn(request),
          'authenticator_app',
          {},
          request.ip,
        );
        if (outcome.status !== 'proved') return reply.redirect('/mfa/register/number', 303);
        reply.setSession(outcome.token);
      } catch (error) {
        const past = await pathPastRefusal(core, request, error, '/mfa/register/number');
        if (!past) throw error;
        return reply.redirect(past, 303);
      }
      return reply.redirect('/mfa/register/app-password', 303);
    });

    registerPasskeyEnrolment(app, core, options.publicUrl);

    // The guide's steps 8-9 (000) and 9-10 (002): an app password for legacy applications.
    registerAppPasswordPages(app, core, {
      path: '/mfa/register/app-password',
      caption: 'Multi-factor authentication',
      next: '/mfa/register/finished',
    });

    app.get('/mfa/register/finished', async (request, reply) => {
      const { account, session } = signedIn(request);
      if (!session.factors.includes('mfa')) return reply.redirect('/mfa/register/start', 303);
      // The page says what was set up: the method registered last is the one just finished.
      const { methods } = await core.methods.list(account);
      const latest = methods.reduce<(typeof methods)[number] | undefined>(
        (newest, m) => (!newest || m.createdAt >= newest.createdAt ? m : newest),
        undefined,
      );
      return page(reply, 'mfa-register-finished', 'Congratulations, you have successfully set up MFA!', {
        next: homeFor('complete', session.returnTo),
        kind: latest?.kind,
        label: latest?.label,
        calls: core.phone.settings.allowCalls,
      });
    });

    app.get('/mfa/register/different', async (_request, reply) =>
      page(reply, 'mfa-register-different', 'Choose a different method', { methods: methodChoices(core) }),
    );

    app.post('/mfa/register/different', async (request, reply) => {
      const parsed = z
        .object({ method: z.string().refine((m) => differentMethods(core).some((d) => d.value === m)) })
        .safeParse(formBody(request.body));
      if (!parsed.success) {
        const errors = fieldErrors(parsed.error, { method: 'Select a method' });
        return page(
          reply,
          'mfa-register-different',
          'Choose a different method',
          { methods: methodChoices(core), ...summaryAndFields(errors) },
          400,
        );
      }
      if (parsed.data.method === 'totp') {
        // The key is made by this POST, for this session only (a GET shows it, never makes one).
        try {
          await core.flow.startEnrolment(signedIn(request), 'totp', { issuer: options.issuer }, request.ip);
        } catch (error) {
          const past = await pathPastRefusal(core, request, error, '/mfa/register/different');
          if (!past) throw error;
          return reply.redirect(past, 303);
        }
      }
      return reply.redirect(methodPages[parsed.data.method] ?? '/mfa/register/app', 303);
    });

    app.get('/mfa/register/code-app', async (request, reply) => renderCodeApp(request, reply));

    app.post('/mfa/register/code-app', async (request, reply) => {
      const code = z.string().trim().max(20).catch('').parse(formBody(request.body).code);
      try {
        const outcome = await core.flow.finishEnrolment(
          signedIn(request),
          'totp',
          { issuer: options.issuer, code },
          request.ip,
        );
        if (outcome.status !== 'proved') return reply.redirect('/mfa/register/code-app', 303);
        reply.setSession(outcome.token);
      } catch (error) {
        const past = await pathPastRefusal(core, request, error, '/mfa/register/different');
        if (past) return reply.redirect(past, 303);
        if (!isGatehouseError(error)) throw error;
        return renderCodeApp(request, reply, messageFor(error, core.clock.now(), 'registration'));
      }
      return reply.redirect('/mfa/register/app-password', 303);
    });

    async function renderCodeApp(request: FastifyRequest, reply: FastifyReply, problem?: string) {
      const { account, session } = signedIn(request);
      const setup = await core.totp.pendingStandardApp(account, options.issuer, session);
      if (!setup) return reply.redirect('/mfa/register/different', 303);
      const errors = problem ? [{ field: 'code', text: problem }] : [];
      return page(
        reply,
        'mfa-register-code-app',
        'Set up your authenticator app',
        {
          qr: await qrDataUrl(setup.uri),
          secretGrouped: setup.secret.match(/.{1,4}/g)?.join(' '),
          ...summaryAndFields(errors),
        },
        problem ? 400 : 200,
      );
    }
  };
}
