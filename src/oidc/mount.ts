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
  };
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
        secureCookies: options.secureCookies,
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

  await app.register(middie);
  app.use('/oidc', (req: IncomingMessage, res: ServerResponse) => {
    const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
    const origin =
      options.publicUrl ?? `${encrypted ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
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
