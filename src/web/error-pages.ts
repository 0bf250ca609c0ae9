import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type DatabaseUnavailableError, isDatabaseUnavailable } from '../core/errors.ts';
import type { Core } from '../core/index.ts';
import { databaseUnavailableWords } from './messages.ts';

interface ErrorPage {
  status: number;
  title: string;
  paragraphs: string[];
}

const tooLarge: ErrorPage = {
  status: 413,
  title: 'What you sent is too large',
  paragraphs: [
    'The form you sent was much larger than expected, so nothing was saved.',
    'Go back and try again.',
  ],
};

const formExpired: ErrorPage = {
  status: 403,
  title: 'This form has expired',
  paragraphs: [
    'For your security, the form could not be accepted: it has expired or did not come from this site. Nothing was changed.',
    'Go back, reload the page and try again.',
  ],
};

const badRequest: ErrorPage = {
  status: 400,
  title: 'Sorry, the request could not be read',
  paragraphs: [
    'What your browser sent could not be understood, so nothing was saved. Go back and try again.',
  ],
};

const serviceProblem: ErrorPage = {
  status: 500,
  title: 'Sorry, there is a problem with the service',
  paragraphs: ['Try again later. If the problem continues, contact your IT service desk.'],
};

/** Every failure gets a page a person can act on; none shows a stack trace or internal detail. */
export function registerErrorPages(app: FastifyInstance, core: Core): void {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (isDatabaseUnavailable(error)) return sendDatabaseUnavailable(request, reply, error);
    let page = serviceProblem;
    if (error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET') {
      page = formExpired;
      await core.audit.record({
        type: 'request.csrf_rejected',
        email: request.auth?.account.email ?? null,
        clientAddress: request.ip,
        detail: { route: request.routeOptions.url ?? 'unmatched', reason: error.code },
      });
    } else if (error.statusCode === 413) {
      page = tooLarge;
    } else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      page = badRequest;
    } else {
      request.log.error({ err: error }, 'unhandled error');
    }
    return reply.page(
      'error',
      { title: page.title, heading: page.title, paragraphs: page.paragraphs },
      page.status,
    );
  });

  app.setNotFoundHandler(async (_request, reply) =>
    reply.page(
      'error',
      {
        title: 'Page not found',
        heading: 'Page not found',
        paragraphs: ['If you typed the web address, check it is correct.'],
        backLink: { href: '/', text: 'Go to the portal home page' },
      },
      404,
    ),
  );
}

/** Routes read by scripts rather than people: they get JSON, whatever their Accept header. */
const JSON_ROUTES = new Set(['/mfa/verify/status', '/readyz']);

/**
 * 503 with Retry-After while the database is away: a page that says to try again in a moment,
 * or JSON for the device API and the scripts that poll. One warning in the log says why.
 */
export function sendDatabaseUnavailable(
  request: FastifyRequest,
  reply: FastifyReply,
  error: DatabaseUnavailableError,
) {
  request.log.warn(
    { reason: error.reason, err: error.cause, route: request.routeOptions.url ?? 'unmatched' },
    'database unavailable: answered 503, try again',
  );
  reply.header('retry-after', String(error.retryAfterSeconds));
  const wantsJson =
    request.url.startsWith('/api/') ||
    JSON_ROUTES.has(request.routeOptions.url ?? '') ||
    /application\/json/.test(request.headers.accept ?? '');
  if (wantsJson)
    return reply.code(503).send({ error: { code: error.code, message: databaseUnavailableWords.api } });
  return reply.page(
    'error',
    {
      title: databaseUnavailableWords.title,
      heading: databaseUnavailableWords.title,
      paragraphs: [...databaseUnavailableWords.paragraphs],
    },
    503,
  );
}
