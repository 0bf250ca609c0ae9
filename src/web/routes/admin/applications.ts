import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Core } from '../../../core/index.ts';
import { GatehouseError, isGatehouseError } from '../../../core/index.ts';
import type { Application } from '../../../core/model.ts';
import { formBody, summaryAndFields } from '../../forms.ts';
import { messageFor } from '../../messages.ts';
import { formatDateTime } from '../../time-format.ts';
import { actorOf } from './guard.ts';

/** The add form's fields, by the core's name for each (see ApplicationField). */
const FIELD_IDS: Record<string, string> = {
  name: 'name',
  redirectUris: 'redirect-uris',
  postLogoutRedirectUris: 'post-logout-uris',
  launchUrl: 'launch-url',
  reason: 'reason',
};

const URI_WORDS: Record<string, string> = {
  not_absolute: 'must be a full web address, starting https://',
  too_long: 'must be at most 2000 characters',
  fragment: 'must not have a # part',
  not_https: 'must start https:// (http:// only for localhost)',
  wildcard: 'must not have a * (wildcards are not allowed): give each address in full',
  credentials: 'must not have a user name or password in it',
};

const FIELD_NAMES: Record<string, string> = {
  redirectUris: 'Each redirect URI',
  postLogoutRedirectUris: 'Each sign-out return address',
  launchUrl: 'The start page',
};

/** The words for a refused field: which field, and why, from the core's details. */
export function applicationProblem(
  error: GatehouseError,
  now: Date,
  otherwise = 'name',
): { field: string; text: string } {
  const field = typeof error.details.field === 'string' ? error.details.field : 'name';
  const problem = typeof error.details.problem === 'string' ? error.details.problem : '';
  const id = FIELD_IDS[field] ?? 'name';
  if (error.code !== 'invalid_input') return { field: otherwise, text: messageFor(error, now) };
  if (field === 'name')
    return { field: id, text: 'Enter a name of 1 to 100 characters (letters, not controls)' };
  if (field === 'reason') return { field: id, text: 'The reason must be at most 500 characters' };
  if (problem === 'count')
    return {
      field: id,
      text:
        field === 'redirectUris'
          ? 'Enter 1 to 10 redirect URIs, one on each line'
          : 'Enter at most 10 sign-out return addresses, one on each line',
    };
  return {
    field: id,
    text: `${FIELD_NAMES[field] ?? 'Each address'} ${URI_WORDS[problem] ?? 'is not valid'}`,
  };
}

const clientIdParam = z.object({ clientId: z.string().min(1).max(100) });

function clientIdOf(request: FastifyRequest): string {
  const parsed = clientIdParam.safeParse(request.params);
  if (!parsed.success) throw new GatehouseError('application_not_found');
  return parsed.data.clientId;
}

const lines = (text: string | undefined) =>
  (text ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);

const when = (date: Date | null | undefined) => (date ? formatDateTime(date) : 'Never');

function describe(a: Application) {
  return {
    clientId: a.clientId,
    href: `/admin/applications/${encodeURIComponent(a.clientId)}`,
    name: a.name,
    kind: a.secretSealed ? 'Confidential (client secret)' : 'Public (PKCE, no secret)',
    confidential: a.secretSealed !== null,
    requireMfa: a.requireMfa ? 'Always' : 'When the application asks',
    requirePhishingResistant: a.requirePhishingResistant
      ? 'Always: a passkey or a smartcard'
      : 'When the application asks (acr phr)',
    requirements: { mfa: a.requireMfa, phishingResistant: a.requirePhishingResistant },
    redirectUris: a.redirectUris,
    postLogoutRedirectUris: a.postLogoutRedirectUris,
    launchUrl: a.launchUrl,
    added: when(a.createdAt),
    rotated: a.secretSealed ? when(a.secretRotatedAt ?? null) : 'No secret',
  };
}

/** What the page says once an operator changed what sign-ins to an application need. */
function requirementsFlash(a: Application): string {
  const needs = a.requirePhishingResistant
    ? 'a passkey or a smartcard'
    : a.requireMfa
      ? 'MFA'
      : 'what the application asks for';
  return `Every sign-in to ${a.name} now needs ${needs}, from the next time it sends someone to the portal to sign in. Whoever it has already let in stays signed in to it.`;
}

/** Applications (single sign-on clients) in the console: list, add, rotate the secret, remove. */
export function applicationRoutes(core: Core) {
  const apps = core.console.applications;
  const now = () => core.clock.now();

  async function list(request: FastifyRequest, reply: FastifyReply, flash?: string) {
    const actor = actorOf(request);
    return reply.page('admin/applications', {
      title: 'Applications',
      wide: true,
      consoleRole: actor.role,
      canChange: actor.role === 'operator',
      flash,
      applications: (await apps.list()).map(describe),
    });
  }

  function addForm(
    request: FastifyRequest,
    reply: FastifyReply,
    values: Record<string, string>,
    problem?: GatehouseError,
  ) {
    const errors = problem ? [applicationProblem(problem, now())] : [];
    return reply.page(
      'admin/application-new',
      {
        title: 'Add an application',
        consoleRole: actorOf(request).role,
        values: { ...values, name: (values.name ?? '').slice(0, 200), kind: values.kind ?? 'confidential' },
        ...summaryAndFields(errors),
      },
      problem ? problem.status : 200,
    );
  }

  /** The one page that shows a client secret: right after it was made. */
  function secretPage(
    request: FastifyRequest,
    reply: FastifyReply,
    application: Application,
    secret: string | null,
    rotated: boolean,
  ) {
    return reply.page('admin/application-secret', {
      title: rotated ? 'New client secret' : 'Application added',
      consoleRole: actorOf(request).role,
      rotated,
      application: describe(application),
      secret,
    });
  }

  async function found(request: FastifyRequest) {
    const clientId = clientIdOf(request);
    const application = await apps.find(clientId);
    if (!application) throw new GatehouseError('application_not_found');
    return application;
  }

  function detail(
    request: FastifyRequest,
    reply: FastifyReply,
    application: Application,
    template: 'admin/application' | 'admin/application-remove',
    problem?: GatehouseError,
    flash?: string,
  ) {
    const actor = actorOf(request);
    const errors = problem ? [applicationProblem(problem, now(), 'reason')] : [];
    return reply.page(
      template,
      {
        title: template === 'admin/application' ? application.name : `Remove ${application.name}`,
        wide: template === 'admin/application',
        consoleRole: actor.role,
        canChange: actor.role === 'operator',
        application: describe(application),
        values: problem ? formBody(request.body) : {},
        flash,
        ...summaryAndFields(errors),
      },
      problem ? problem.status : 200,
    );
  }

  /** Runs a handler; an unknown application is a 404 page, nothing changed. */
  const known =
    (handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        return await handler(request, reply);
      } catch (error) {
        if (!isGatehouseError(error, 'application_not_found')) throw error;
        return unknownApplication(reply, actorOf(request).role);
      }
    };

  return async (app: FastifyInstance) => {
    app.get('/admin/applications', async (request, reply) => list(request, reply));

    app.get('/admin/applications/new', async (request, reply) => addForm(request, reply, {}));

    app.post('/admin/applications/new', async (request, reply) => {
      const body = formBody(request.body);
      try {
        const { application, clientSecret } = await apps.add(actorOf(request), {
          name: body.name ?? '',
          redirectUris: lines(body['redirect-uris']),
          postLogoutRedirectUris: lines(body['post-logout-uris']),
          confidential: body.kind !== 'public',
          requireMfa: body['require-mfa'] === 'yes',
          requirePhishingResistant: body['require-phishing-resistant'] === 'yes',
          launchUrl: (body['launch-url'] ?? '').trim() || null,
        });
        return secretPage(request, reply, application, clientSecret, false);
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        return addForm(request, reply, body, error);
      }
    });

    app.get(
      '/admin/applications/:clientId',
      known(async (request, reply) => detail(request, reply, await found(request), 'admin/application')),
    );

    app.post(
      '/admin/applications/:clientId/rotate-secret',
      known(async (request, reply) => {
        const application = await found(request);
        try {
          const rotated = await apps.rotateSecret(
            actorOf(request),
            application.clientId,
            formBody(request.body).reason,
          );
          return secretPage(request, reply, rotated.application, rotated.clientSecret, true);
        } catch (error) {
          if (!isGatehouseError(error) || error.code === 'application_not_found') throw error;
          return detail(request, reply, application, 'admin/application', error);
        }
      }),
    );

    app.post(
      '/admin/applications/:clientId/requirements',
      known(async (request, reply) => {
        const application = await found(request);
        const body = formBody(request.body);
        try {
          const changed = await apps.setRequirements(
            actorOf(request),
            application.clientId,
            {
              requireMfa: body['require-mfa'] === 'yes',
              requirePhishingResistant: body['require-phishing-resistant'] === 'yes',
            },
            body.reason,
          );
          return detail(request, reply, changed, 'admin/application', undefined, requirementsFlash(changed));
        } catch (error) {
          if (!isGatehouseError(error) || error.code === 'application_not_found') throw error;
          return detail(request, reply, application, 'admin/application', error);
        }
      }),
    );

    app.get(
      '/admin/applications/:clientId/remove',
      known(async (request, reply) =>
        detail(request, reply, await found(request), 'admin/application-remove'),
      ),
    );

    app.post(
      '/admin/applications/:clientId/remove',
      known(async (request, reply) => {
        const application = await found(request);
        try {
          const { ended } = await apps.remove(
            actorOf(request),
            application.clientId,
            formBody(request.body).reason,
          );
          return list(
            request,
            reply,
            `${application.name} was removed: nobody can sign in to it through the portal now. ${ended} of its sign-ins (grants, codes and tokens) ended.`,
          );
        } catch (error) {
          if (!isGatehouseError(error) || error.code === 'application_not_found') throw error;
          return detail(request, reply, application, 'admin/application-remove', error);
        }
      }),
    );
  };
}

function unknownApplication(reply: FastifyReply, role: string) {
  return reply.page(
    'error',
    {
      title: 'No such application',
      heading: 'No such application',
      paragraphs: [
        'There is no application with that client ID: it may have been removed. Nothing was changed.',
      ],
      backLink: { href: '/admin/applications', text: 'Applications' },
      consoleRole: role,
    },
    404,
  );
}
