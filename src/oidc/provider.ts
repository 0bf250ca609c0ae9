import Provider, { type Configuration, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { PrivateJwk } from '../core/applications/signing-keys.ts';
import type { Core } from '../core/index.ts';
import {
  ACR_MFA,
  ACR_PASSWORD,
  ACR_PHISHING_RESISTANT,
  isMfaAcr,
  mfaDemanded,
  phishingResistantDemanded,
} from './acr.ts';
import { databaseAdapter } from './adapter.ts';
import { HAND_OFF_TEMPLATE, handOffPage } from './hand-off.ts';
import { signInTime, withinMaxAge } from './sign-in-time.ts';

export interface ProviderOptions {
  core: Core;
  issuer: string;
  /** Keys that sign the provider's cookies (shared by every instance). */
  cookieKeys: string[];
  signingKeys: PrivateJwk[];
  /** Renders one of the portal's pages (logout, errors) so the provider looks like the portal. */
  renderPage(template: string, context: Record<string, unknown>): string;
  /** The portal's session cookie: every authorization is answered from the portal session it names. */
  sessionCookie: string;
  secureCookies: boolean;
}

const INTERACTION_TTL_SECONDS = 3600;

/** The OpenID provider (oidc-provider, OpenID certified), configured for Gatehouse. */
export function createProvider(options: ProviderOptions): Provider {
  const { core } = options;
  const portal = portalSessions(options);
  const configuration: Configuration = {
    adapter: databaseAdapter(core.singleSignOn, core.applications),
    async findAccount(_ctx, sub) {
      const account = await core.singleSignOn.account(sub);
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
    acrValues: [ACR_PASSWORD, ACR_MFA, ACR_PHISHING_RESISTANT],
    extraClientMetadata: { properties: ['require_mfa', 'require_phishing_resistant'] },
    interactions: {
      async url(_ctx, interaction) {
        await core.singleSignOn.recordInteractionStart(interaction.uid, INTERACTION_TTL_SECONDS);
        return `/interaction/${interaction.uid}`;
      },
      policy: policyWithMfa(portal, core),
    },
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
          // Nothing ends yet: a link or a prefetch lands here. The portal session ends when the
          // user confirms this page (see endPortalSessionOnConfirmedLogout).
          const session = ctx.oidc.session;
          if (session) session.state = { ...session.state, [CONFIRMED_ON_PAGE]: true };
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
      Interaction: INTERACTION_TTL_SECONDS,
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
  provider.use(endPortalSessionOnConfirmedLogout(portal));
  provider.use(handOffAfterLogout(options.renderPage));
  return provider;
}

/**
 * The Sign out page is a form, and its answer redirects to the application's
 * post_logout_redirect_uri on another origin, which the portal's form-action 'self' refuses:
 * the way back is a page instead (see hand-off.ts).
 */
function handOffAfterLogout(renderPage: ProviderOptions['renderPage']) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    await next();
    const oidc = ctx.oidc as KoaContextWithOIDC['oidc'] | undefined;
    const location = ctx.response.get('location');
    if (oidc?.route !== 'end_session_confirm' || ctx.status < 300 || ctx.status >= 400 || !location) return;
    // Without a post_logout_redirect_uri the provider's own "signed out" page follows: no hand-off.
    if (new URL(location, oidc.issuer).origin === new URL(oidc.issuer).origin) return;
    ctx.remove('location');
    ctx.status = 200;
    ctx.type = 'html';
    ctx.set('cache-control', 'no-store');
    ctx.body = renderPage(HAND_OFF_TEMPLATE, handOffPage(location, { purpose: 'sign_out' }));
  };
}

/** Marks the provider's logout state when the user was shown the Sign out page. */
const CONFIRMED_ON_PAGE = 'gatehouseConfirmedOnPage';

/** The portal session a request to the provider carries (its cookie is on every path of the portal). */
function portalSessions(options: ProviderOptions) {
  const tokenOf = (ctx: KoaContextWithOIDC) => {
    const token = ctx.cookies.get(options.sessionCookie, { signed: false });
    return token && token.length <= 100 ? token : undefined;
  };
  // The login checks each ask for the portal session of one request: it is read once.
  const resumed = new WeakMap<KoaContextWithOIDC, ReturnType<Core['sessions']['resume']>>();
  return {
    resume(ctx: KoaContextWithOIDC) {
      const token = tokenOf(ctx);
      if (!token) return Promise.resolve(undefined);
      let session = resumed.get(ctx);
      if (!session) {
        session = options.core.sessions.resume(token, ctx.ip);
        resumed.set(ctx, session);
      }
      return session;
    },
    /** Ends it, and clears its cookie in this same response. */
    async end(ctx: KoaContextWithOIDC) {
      const token = tokenOf(ctx);
      resumed.delete(ctx);
      if (token) await options.core.sessions.signOut(token, ctx.ip);
      ctx.cookies.set(options.sessionCookie, null, { path: '/', signed: false });
    },
  };
}
type PortalSessions = ReturnType<typeof portalSessions>;

/**
 * RP-initiated logout ends the portal session too, but only once the user has said yes on the
 * Sign out page: the provider has then destroyed its own session in this request. A GET of
 * /session/end, and the provider's own sign-outs (switching accounts), end nothing here.
 */
function endPortalSessionOnConfirmedLogout(portal: PortalSessions) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => {
    await next();
    const oidc = ctx.oidc as KoaContextWithOIDC['oidc'] | undefined;
    if (oidc?.route !== 'end_session_confirm' || !oidc.session) return;
    const state = oidc.session.state as Record<string, unknown> | undefined;
    const loggedOut = (oidc.session as { destroyed?: boolean }).destroyed === true;
    if (loggedOut && state?.[CONFIRMED_ON_PAGE] === true) await portal.end(ctx);
  };
}

/**
 * The default interaction policy, plus three checks of the login prompt:
 * - the provider's session is only as good as the portal session it was made from: ended (Sign
 *   out, an MFA reset), expired, idle, not yet past MFA, another account, or a later sign-in,
 *   and the user must sign in again (prompt=none gets login_required);
 * - when the request's acr_values or the application demand MFA and the session has not done it,
 *   the user is sent back to sign in;
 * - the same for a passkey or smartcard, demanded by the request (acr `phr`), the application or
 *   the account's group.
 */
function policyWithMfa(portal: PortalSessions, core: Core) {
  const { Check, base } = interactionPolicy;
  const policy = base();
  policy.get('login')?.checks.add(
    new Check('portal_session', 'End-User authentication is required', 'login_required', async (ctx) => {
      const { oidc } = ctx;
      const active = await portal.resume(ctx);
      if (active?.session.stage !== 'complete') return Check.REQUEST_PROMPT;
      const signedIn = oidc.session;
      if (signedIn?.accountId !== active.account.id) return Check.REQUEST_PROMPT;
      if (signedIn.loginTs !== signInTime(active.session)) return Check.REQUEST_PROMPT;
      // Two sign-ins in one second share a loginTs: never claim a factor this one lacks.
      if (!(signedIn.amr ?? []).every((factor) => active.session.factors.includes(factor)))
        return Check.REQUEST_PROMPT;
      // An interaction that has just answered (oidc.result) checked max_age against the portal
      // sign-in itself, as the provider's own max_age check trusts it.
      const maxAge = oidc.params?.max_age;
      if (
        maxAge !== undefined &&
        !oidc.result?.login &&
        !withinMaxAge(active.session, maxAge, core.clock.now())
      )
        return Check.REQUEST_PROMPT;
      return Check.NO_NEED_TO_PROMPT;
    }),
  );
  policy.get('login')?.checks.add(
    new Check('mfa_required', 'multi-factor authentication is required', async (ctx) => {
      const { oidc } = ctx;
      const requireMfa = oidc.client?.['require_mfa' as keyof typeof oidc.client] === true;
      if (mfaDemanded(oidc.params?.acr_values, requireMfa) && !isMfaAcr(oidc.acr))
        return Check.REQUEST_PROMPT;
      return Check.NO_NEED_TO_PROMPT;
    }),
  );
  policy.get('login')?.checks.add(
    new Check(
      'phishing_resistant_required',
      'a passkey or smartcard sign-in is required',
      'login_required',
      async (ctx) => {
        const { oidc } = ctx;
        const active = await portal.resume(ctx);
        if (!active) return Check.REQUEST_PROMPT;
        const required =
          oidc.client?.['require_phishing_resistant' as keyof typeof oidc.client] === true ||
          core.flow.phishingResistantRequired(active.account);
        // Asked of the portal session, not of the provider's: amr cannot tell a passkey held by
        // the platform (swk) from the app's signing key (swk).
        if (
          phishingResistantDemanded(oidc.params?.acr_values, required) &&
          !core.flow.isPhishingResistant(active)
        )
          return Check.REQUEST_PROMPT;
        return Check.NO_NEED_TO_PROMPT;
      },
    ),
  );
  return policy;
}
