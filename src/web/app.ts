import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { PrivateJwk } from '../core/applications/signing-keys.ts';
import type { Core } from '../core/index.ts';
import { applicationNameFor } from '../oidc/application-name.ts';
import { mountSingleSignOn } from '../oidc/mount.ts';
import { projectRoot } from '../paths.ts';
import { registerErrorPages } from './error-pages.ts';
import { type MetricsSource, metricsRoute } from './metrics.ts';
import { pageRenderer, registerPageRendering } from './page.ts';
import { publicUrlOf } from './public-url.ts';
import { nhsukDist, staticDir } from './render.ts';
import { adminRoutes } from './routes/admin/index.ts';
import { authenticatorAppRoutes } from './routes/authenticator-app.ts';
import { deviceApiRoutes } from './routes/device-api.ts';
import { healthRoutes } from './routes/health.ts';
import { mfaRegistrationRoutes } from './routes/mfa-registration.ts';
import { mfaVerificationRoutes } from './routes/mfa-verification.ts';
import { ownAccountRoutes } from './routes/own-account.ts';
import { passkeySignInRoutes } from './routes/passkeys.ts';
import { passwordResetRoutes } from './routes/password-reset.ts';
import { phoneRegistrationRoutes, phoneVerificationRoutes } from './routes/phone-registration.ts';
import { portalRoutes } from './routes/portal.ts';
import { profileRoutes } from './routes/profile.ts';
import { securityInfoRoutes } from './routes/security-info.ts';
import { signInRoutes } from './routes/sign-in.ts';
import { type SmartcardPortalOptions, smartcardRoutes } from './routes/smartcard.ts';
import { temporaryPassRoutes } from './routes/temporary-pass.ts';
import { homeFor, portalCookieNames, registerSessionLoading } from './session.ts';
import { PLAIN_HTTP_WITH_SECURE_COOKIES, transportOf } from './transport.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false on routes that authenticate without cookies and so need no CSRF token. */
    csrf?: boolean;
  }
}

export interface WebOptions {
  core: Core;
  logger: FastifyBaseLogger;
  organisation: { name: string; logoUrl?: string | undefined };
  cookieSecure: boolean;
  /** Secret that signs the CSRF cookie; shared by every instance on one database. */
  cookieSecret: string;
  trustProxy?: string | undefined;
  /** The address people reach the portal at (QR codes); default: from each request. */
  publicUrl?: string | undefined;
  androidAppUrl?: string | undefined;
  iphoneAppUrl?: string | undefined;
  /** The VAPID public key apps subscribe with, when Web Push is on. */
  vapidPublicKey?: string | undefined;
  /** More routes on the portal (the development phone). */
  extraRoutes?: ((app: FastifyInstance) => Promise<void>)[];
  /** Smartcard sign-in (`Log in with my Care identity`), when its certificate endpoint runs. */
  smartcard?: SmartcardPortalOptions | undefined;
  /** Prometheus metrics: push delivery times, and `GET /metrics` when a bearer token is set. */
  metrics?: { pushDelivered(seconds: number): void; route?: { source: MetricsSource; token: string } };
  /** The OpenID provider's keys; single sign-on is served when given. */
  singleSignOn?:
    | { cookieKeys: string[]; signingKeys: () => Promise<PrivateJwk[]>; keyRefreshMs?: number }
    | undefined;
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

  await registerSecurityHeaders(app, options.organisation);
  await app.register(cookie, { secret: options.cookieSecret });
  await app.register(formbody);
  // Pages post HTML forms only; other body types are refused before they reach a route.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  await app.register(csrf, {
    cookieKey: portalCookieNames(options.cookieSecure).csrf,
    cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true, secure: options.cookieSecure, signed: true },
  });

  await registerStaticFiles(app);

  registerPageRendering(app, options);
  registerErrorPages(app, options.core);
  registerSessionLoading(app, options.core, options.cookieSecure);
  // After the session is loaded, so that a refusal can be audited against the account.
  // Routes that take no cookies (the device API, signed by each device) opt out with csrf: false.
  app.addHook('preHandler', (request, reply, done) => {
    if (request.method === 'POST' && request.routeOptions.config.csrf !== false)
      app.csrfProtection(request, reply, done);
    else done();
  });

  await app.register(healthRoutes(options.core));
  const issuer = options.organisation.name;
  const verification = {
    applicationName: applicationNameFor(options.core, `${issuer} portal`),
    publicUrl: options.publicUrl,
    careIdentity: options.smartcard !== undefined,
  };
  await app.register(
    signInRoutes(options.core, {
      cookieSecure: options.cookieSecure,
      careIdentity: options.smartcard !== undefined,
      verification,
    }),
  );
  if (options.smartcard) await app.register(smartcardRoutes(options.core, options.smartcard));
  await app.register(
    portalRoutes(options.core, {
      singleSignOn: options.singleSignOn !== undefined,
      publicUrl: options.publicUrl,
    }),
  );
  await app.register(profileRoutes(options.core));
  await app.register(
    mfaRegistrationRoutes(options.core, {
      issuer,
      publicUrl: options.publicUrl,
      androidAppUrl: options.androidAppUrl,
      iphoneAppUrl: options.iphoneAppUrl,
    }),
  );
  await app.register(securityInfoRoutes(options.core, options.smartcard !== undefined));
  await app.register(ownAccountRoutes(options.core, { cookieSecure: options.cookieSecure }));
  await app.register(
    passwordResetRoutes(options.core, {
      cookieSecure: options.cookieSecure,
      smartcard: Boolean(options.smartcard),
    }),
  );
  await app.register(phoneRegistrationRoutes(options.core));
  await app.register(phoneVerificationRoutes(options.core));
  for (const routes of options.extraRoutes ?? []) await app.register(routes);
  await app.register(mfaVerificationRoutes(options.core, verification));
  await app.register(
    passkeySignInRoutes(options.core, { publicUrl: options.publicUrl, cookieSecure: options.cookieSecure }),
  );
  await app.register(temporaryPassRoutes(options.core));
  await app.register(adminRoutes(options.core));
  if (options.singleSignOn) {
    await mountSingleSignOn(app, {
      core: options.core,
      publicUrl: options.publicUrl,
      cookieKeys: options.singleSignOn.cookieKeys,
      signingKeys: options.singleSignOn.signingKeys,
      keyRefreshMs: options.singleSignOn.keyRefreshMs,
      secureCookies: options.cookieSecure,
      renderPage: pageRenderer(options.organisation),
      portal: {
        sessionCookie: portalCookieNames(options.cookieSecure).session,
        sessionOf: (request) => request.auth,
        homeFor: (stage) => homeFor(stage),
        publicUrlOf: (request) => publicUrlOf(request, options.publicUrl),
        secureTransport: (request) => transportOf(request, options.publicUrl) !== 'plain',
        plainHttpWarning: PLAIN_HTTP_WITH_SECURE_COOKIES,
      },
    });
  }
  // The installable authenticator web app (its own, wider connect-src: see the route).
  await app.register(authenticatorAppRoutes());
  await app.register(
    deviceApiRoutes(options.core, {
      issuer,
      publicUrl: options.publicUrl,
      vapidPublicKey: options.vapidPublicKey,
      pushDelivered: options.metrics?.pushDelivered,
    }),
    { prefix: '/api/authenticator/v1' },
  );
  const metrics = options.metrics?.route;
  if (metrics) await app.register(metricsRoute(metrics.source, metrics.token));
  return app;
}

/** Content Security Policy and the other headers every page of Gatehouse carries. */
export async function registerSecurityHeaders(
  app: FastifyInstance,
  organisation: { logoUrl?: string | undefined } = {},
): Promise<void> {
  // Pages load only from the portal itself (a closed network reaches nothing else), but for the
  // organisation's logo where the operator points it at another host.
  const logoOrigin = organisation.logoUrl ? originOf(organisation.logoUrl) : undefined;
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        // No page uses <base>; 'none' stops an injected one from re-pointing relative URLs.
        baseUri: ["'none'"],
        imgSrc: ["'self'", 'data:', ...(logoOrigin ? [logoOrigin] : [])],
        fontSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        scriptSrc: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
  });
}

function originOf(url: string): string | undefined {
  try {
    const { origin } = new URL(url);
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined; // a path on the portal itself: 'self'
  }
}

const NHSUK_CSS = 'nhsuk-frontend.min.css';

/** A stylesheet without its @font-face rules (and so without the hosts they load fonts from). */
export function withoutWebFonts(css: string): string {
  return css.replace(/@font-face\s*\{[^}]*\}/g, '');
}

/** The portal's own scripts (progressive enhancement only: every page works without them). */
const SCRIPTS = new Set(['/approval-wait.js', '/profile-menu.js', '/passkey.js', '/passkey-autofill.js']);

/** The NHS.UK frontend's styles and images and Gatehouse's own, which every page links to. */
export async function registerStaticFiles(app: FastifyInstance): Promise<void> {
  // NHS.UK frontend's styles without their web fonts, which it loads from assets.nhs.uk: a portal
  // on a closed network loads nothing from outside. Frutiger is licensed and not in the package,
  // so text is in the styles' own fallback, Arial (then the system's sans-serif).
  const nhsukCss = withoutWebFonts(readFileSync(join(nhsukDist, 'nhsuk', NHSUK_CSS), 'utf8'));
  app.get(`/static/${NHSUK_CSS}`, async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=0').send(nhsukCss),
  );
  // @simplewebauthn/browser's own bundle, served from the installed package (the passkey pages).
  const webauthnBrowser = readFileSync(
    join(projectRoot, 'node_modules', '@simplewebauthn', 'browser', 'dist', 'bundle', 'index.umd.min.js'),
    'utf8',
  );
  app.get('/static/simplewebauthn-browser.js', async (_request, reply) =>
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=0')
      .send(webauthnBrowser),
  );
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
    allowedPath: (path) => (path.endsWith('.css') && path !== `/${NHSUK_CSS}`) || SCRIPTS.has(path),
  });
}
