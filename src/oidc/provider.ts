import Provider, { type Configuration, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { Core } from '../core/index.ts';
import { ACR_MFA, ACR_PASSWORD, mfaDemanded } from './acr.ts';
import { databaseAdapter } from './adapter.ts';
import type { PrivateJwk } from './keys.ts';

export interface ProviderOptions {
  core: Core;
  issuer: string;
  /** Keys that sign the provider's cookies (shared by every instance). */
  cookieKeys: string[];
  signingKeys: PrivateJwk[];
  /** Renders one of the portal's pages (logout, errors) so the provider looks like the portal. */
  renderPage(template: string, context: Record<string, unknown>): string;
  /** Ends the portal's own session when an application signs the user out. */
  endPortalSession(ctx: KoaContextWithOIDC): Promise<void>;
  secureCookies: boolean;
}

/** The OpenID provider (oidc-provider, OpenID certified), configured for Gatehouse. */
export function createProvider(options: ProviderOptions): Provider {
  const { core } = options;
  const configuration: Configuration = {
    adapter: databaseAdapter(core.store, core.clock, core.applications),
    async findAccount(_ctx, sub) {
      const account = await core.store.accounts.findById(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        claims: async () => ({ sub, email: account.email, email_verified: true, name: account.displayName }),
      };
    },
    // acr and amr are stated in every ID token, so applications can tell how the user signed in.
    claims: {
      acr: null,
      amr: null,
      auth_time: null,
      sid: null,
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    scopes: ['openid', 'email', 'profile', 'offline_access'],
    acrValues: [ACR_PASSWORD, ACR_MFA],
    extraClientMetadata: { properties: ['require_mfa'] },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: policyWithMfa() },
    cookies: {
      keys: options.cookieKeys,
      long: { secure: options.secureCookies },
      short: { secure: options.secureCookies },
    },
    jwks: { keys: options.signingKeys },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          await options.endPortalSession(ctx);
          ctx.type = 'html';
          ctx.body = options.renderPage('oidc-logout', { title: 'Sign out', form });
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = options.renderPage('error', {
            title: 'You have signed out',
            heading: 'You have signed out',
            paragraphs: ['You can close this window.'],
            backLink: { href: '/signin', text: 'Sign in again' },
          });
        },
      },
    },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: 12 * 3600,
      Grant: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = options.renderPage('error', {
        title: 'Sorry, the sign-in request cannot be completed',
        heading: 'Sorry, the sign-in request cannot be completed',
        paragraphs: [
          'The application that sent you here made a request Gatehouse cannot accept. Go back to the application and try again.',
          `Reason: ${String(out.error_description ?? out.error)}`,
        ],
      });
    },
  };
  const provider = new Provider(options.issuer, configuration);
  provider.proxy = true;
  return provider;
}

/**
 * The default interaction policy, plus one check: when the request's acr_values or the
 * application demand MFA and the session has not done it, the user is sent back to sign in.
 */
function policyWithMfa() {
  const { Check, base } = interactionPolicy;
  const policy = base();
  policy.get('login')?.checks.add(
    new Check('mfa_required', 'multi-factor authentication is required', async (ctx) => {
      const { oidc } = ctx;
      const requireMfa = oidc.client?.['require_mfa' as keyof typeof oidc.client] === true;
      if (mfaDemanded(oidc.params?.acr_values, requireMfa) && oidc.acr !== ACR_MFA)
        return Check.REQUEST_PROMPT;
      return Check.NO_NEED_TO_PROMPT;
    }),
  );
  return policy;
}
