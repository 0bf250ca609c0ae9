import type { IncomingMessage, ServerResponse } from 'node:http';
import middie from '@fastify/middie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { PrivateJwk } from '../core/applications/signing-keys.ts';
import type { Core } from '../core/index.ts';
import type { SessionStage } from '../core/model.ts';
import type { ActiveSession } from '../core/sessions/session-service.ts';
import { interactionRoutes } from './interactions.ts';

export interface SingleSignOnOptions {
  core: Core;
  /** The portal's public address; the issuer is <publicUrl>/oidc. */
  publicUrl?: string | undefined;
  cookieKeys: string[];
  /** Reads the signing keys (newest first); read again every minute to follow `keys rotate`. */
  signingKeys: () => Promise<PrivateJwk[]>;
  keyRefreshMs?: number;
  secureCookies: boolean;
  renderPage(template: string, context: Record<string, unknown>): string;
  /** What single sign-on takes from the portal it is mounted in (it imports nothing of it). */
  portal: {
    /** The name of the portal's session cookie. */
    sessionCookie: string;
    /** The portal session a request carries, as the portal loaded it. */
    sessionOf(request: FastifyRequest): ActiveSession | undefined;
    /** The portal page a session at this stage belongs on. */
    homeFor(stage: SessionStage): string;
    /** The address a request reached the portal at (the issuer is <it>/oidc). */
    publicUrlOf(request: FastifyRequest): string;
    /** Whether the browser reached it over HTTPS (or on localhost), where Secure cookies work. */
    secureTransport(request: FastifyRequest): boolean;
    /** Logged (once) when a request comes over plain HTTP while cookies must be Secure. */
    plainHttpWarning: string;
  };
}

/** What the portal worked out about a request to the provider, before the provider sees it. */
interface ProviderRequest {
  origin: string;
  secure: boolean;
}

/** Without a configured address, issuers follow the Host header; a few are kept, no more. */
const MAX_DERIVED_ISSUERS = 8;

/** Serves the OpenID provider under /oidc and its interactions under /interaction. */
export async function mountSingleSignOn(app: FastifyInstance, options: SingleSignOnOptions): Promise<void> {
  let signingKeys = await options.signingKeys();
  const kids = (keys: PrivateJwk[]) => keys.map((k) => k.kid).join(' ');
  // Providers hold their keys; after a rotation they are made again (their state is all stored).
  const refresh = setInterval(async () => {
    try {
      const latest = await options.signingKeys();
      if (kids(latest) === kids(signingKeys)) return;
      signingKeys = latest;
      providers.clear();
      app.log.info({ kids: kids(latest) }, 'signing keys changed; OpenID provider reloaded');
    } catch (error) {
      app.log.warn({ err: error }, 'could not read the signing keys');
    }
  }, options.keyRefreshMs ?? 60_000);
  refresh.unref();
  app.addHook('onClose', async () => clearInterval(refresh));
  const providers = new Map<
    string,
    { provider: Provider; handle: (req: IncomingMessage, res: ServerResponse) => void }
  >();
  const providerAt = async (origin: string) => {
    let entry = providers.get(origin);
    if (!entry) {
      // oidc-provider (with Koa, jose and its helpers, some 10 MB resident) is loaded by the first
      // single sign-on request, not at start: many portals serve few applications.
      const { createProvider } = await import('./provider.ts');
      entry = providers.get(origin);
      if (entry) return entry;
      if (providers.size >= MAX_DERIVED_ISSUERS) providers.delete(providers.keys().next().value as string);
      const provider = createProvider({
        core: options.core,
        issuer: `${origin}/oidc`,
        cookieKeys: options.cookieKeys,
        signingKeys,
        // Plain http://localhost (the quick start): the provider's cookies cannot be Secure there
        // as far as Koa is concerned, and need not be; the portal's own stay as configured.
        secureCookies: options.secureCookies && origin.startsWith('https:'),
        renderPage: options.renderPage,
        sessionCookie: options.portal.sessionCookie,
      });
      entry = {
        provider,
        handle: provider.callback() as (req: IncomingMessage, res: ServerResponse) => void,
      };
      providers.set(origin, entry);
    }
    return entry;
  };

  // The portal's reading of each request (trustProxy, publicUrl), made before middie runs it:
  // the provider then agrees with the portal's own pages on the issuer and on the scheme.
  const seen = new WeakMap<IncomingMessage, ProviderRequest>();
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/oidc')) return;
    seen.set(request.raw, {
      origin: options.portal.publicUrlOf(request),
      secure: options.portal.secureTransport(request),
    });
  });
  let warned = false;
  await app.register(middie);
  app.use('/oidc', (req: IncomingMessage, res: ServerResponse) => {
    const { origin, secure } = seen.get(req) ?? { origin: options.publicUrl ?? '', secure: false };
    if (options.secureCookies && !secure) {
      // Koa would refuse to send the provider's Secure cookies over plain HTTP (a 500): say why.
      if (!warned) app.log.warn({ host: req.headers.host }, options.portal.plainHttpWarning);
      warned = true;
      res.statusCode = 503;
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('cache-control', 'no-store');
      res.end(
        options.renderPage('error', {
          title: 'Sorry, single sign-on is not available',
          heading: 'Sorry, single sign-on is not available',
          paragraphs: [
            'The portal is not set up for this address. Tell your IT team: the portal’s log says which setting to change.',
          ],
        }),
      );
      return;
    }
    // The provider trusts X-Forwarded-Proto (provider.proxy); it gets the scheme of the issuer
    // the portal worked out, never what the client sent (its URLs and cookies follow it).
    req.headers['x-forwarded-proto'] = new URL(origin).protocol.replace(':', '');
    providerAt(origin).then(
      (entry) => entry.handle(req, res),
      (error: unknown) => {
        app.log.error({ err: error }, 'the OpenID provider could not be made');
        res.statusCode = 500;
        res.end();
      },
    );
  });
  await app.register(
    interactionRoutes(options.core, {
      providerFor: async (request) => (await providerAt(options.portal.publicUrlOf(request))).provider,
      sessionOf: options.portal.sessionOf,
      homeFor: options.portal.homeFor,
    }),
  );
}
