import { join } from 'node:path';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Core } from '../core/index.ts';
import { registerErrorPages } from './error-pages.ts';
import { registerPageRendering } from './page.ts';
import { nhsukDist, staticDir } from './render.ts';
import { healthRoutes } from './routes/health.ts';
import { mfaRegistrationRoutes } from './routes/mfa-registration.ts';
import { portalRoutes } from './routes/portal.ts';
import { profileRoutes } from './routes/profile.ts';
import { signInRoutes } from './routes/sign-in.ts';
import { registerSessionLoading } from './session.ts';

export interface WebOptions {
  core: Core;
  logger: FastifyBaseLogger;
  organisation: { name: string; logoUrl?: string | undefined };
  cookieSecure: boolean;
  /** Secret that signs the CSRF cookie; shared by every instance on one database. */
  cookieSecret: string;
  trustProxy?: string | undefined;
}

/** Forms here are a few fields; anything larger is refused before it is parsed. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export async function buildWebApp(options: WebOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: options.trustProxy ? options.trustProxy.split(',').map((s) => s.trim()) : false,
    routerOptions: { ignoreTrailingSlash: true },
  });

  // One log line per request: the route pattern, never the raw URL, cookies or form values.
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'https:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        scriptSrc: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
  });
  await app.register(cookie, { secret: options.cookieSecret });
  await app.register(formbody);
  // Pages post HTML forms only; other body types are refused before they reach a route.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  await app.register(csrf, {
    cookieKey: 'gatehouse_csrf',
    cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true, secure: options.cookieSecure, signed: true },
  });

  await app.register(fastifyStatic, {
    root: join(nhsukDist, 'nhsuk', 'assets'),
    prefix: '/assets/',
    index: false,
  });
  await app.register(fastifyStatic, {
    root: [staticDir, join(nhsukDist, 'nhsuk')],
    prefix: '/static/',
    decorateReply: false,
    index: false,
    allowedPath: (path) => path.endsWith('.css'),
  });

  registerPageRendering(app, options);
  registerErrorPages(app, options.core);
  registerSessionLoading(app, options.core, options.cookieSecure);
  // After the session is loaded, so that a refusal can be audited against the account.
  app.addHook('preHandler', (request, reply, done) => {
    if (request.method === 'POST') app.csrfProtection(request, reply, done);
    else done();
  });

  await app.register(healthRoutes(options.core));
  await app.register(signInRoutes(options.core, options.cookieSecure));
  await app.register(portalRoutes(options.core));
  await app.register(profileRoutes(options.core));
  await app.register(mfaRegistrationRoutes(options.core));
  return app;
}
