import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { Core } from '../core/index.ts';
import { amrOf } from '../core/methods/passkey/factors.ts';
import type { SessionStage } from '../core/model.ts';
import type { ActiveSession } from '../core/sessions/session-service.ts';
import { acrFor, mfaDemanded, phishingResistantAsked, phishingResistantDemanded } from './acr.ts';
import { HAND_OFF_TEMPLATE, type HandOff, handOffPage } from './hand-off.ts';
import { signInFreshEnough, signInTime } from './sign-in-time.ts';

/** Why an application's sign-in is refused: it needs a factor the account has not set up. */
type Refusal = 'mfa_required' | 'phishing_resistant_required';

export const INTERACTION_PATH = /^\/interaction\/[A-Za-z0-9_-]{1,64}$/;

export interface InteractionOptions {
  providerFor(request: FastifyRequest): Promise<Provider>;
  /** The portal session the request carries, as the portal loaded it. */
  sessionOf(request: FastifyRequest): ActiveSession | undefined;
  /** The portal page a session at this stage belongs on (the MFA steps). */
  homeFor(stage: SessionStage): string;
}

/**
 * The provider's sign-in and consent steps are the portal's own pages: no portal session, one
 * older than the request accepts (prompt=login, max_age), or one still at the MFA step, goes
 * through them first and comes back here; then the application gets its answer. Registered
 * applications are first-party, so consent is given without a page.
 */
export function interactionRoutes(core: Core, options: InteractionOptions) {
  return async (app: FastifyInstance) => {
    app.get('/interaction/:uid', async (request, reply) => {
      const provider = await options.providerFor(request);
      let details: Awaited<ReturnType<Provider['interactionDetails']>>;
      try {
        details = await provider.interactionDetails(request.raw, reply.raw);
      } catch {
        return expired(reply);
      }
      const returnTo = `/interaction/${details.uid}`;
      const auth = options.sessionOf(request);
      if (!auth) return reply.redirect(`/signin?return=${encodeURIComponent(returnTo)}`, 303);
      const { account, session } = auth;
      const startedAt = await core.singleSignOn.interactionStartedAt(details.uid);
      if (!startedAt) return expired(reply);
      if (!signInFreshEnough(details.params, session, startedAt, core.clock.now())) {
        // The password again (then MFA as the account requires), though already signed in.
        return reply.redirect(`/signin?return=${encodeURIComponent(returnTo)}&reauth=1`, 303);
      }
      if (session.stage !== 'complete') {
        await core.flow.returnTo(auth, returnTo);
        return reply.redirect(options.homeFor(session.stage), 303);
      }

      const clientId = String(details.params.client_id);
      const application = await core.applications.find(clientId);
      /**
       * The application needs more than the account can prove: audited, and the user reads why
       * here, in the portal's words; applications show an error response as they can
       * (mod_auth_openidc 2.4.12 takes one carrying RFC 9207's iss for a discovery response), if
       * at all.
       */
      const refuse = async (purpose: Refusal, description: string) => {
        await core.audit.record({
          type: 'sso.refused',
          email: account.email,
          clientAddress: request.ip,
          detail: { application: clientId, reason: `${purpose}_but_not_set_up` },
        });
        return finish(
          provider,
          request,
          reply,
          { error: 'access_denied', error_description: description },
          { purpose, application: application?.name ?? 'This application' },
        );
      };

      if (
        mfaDemanded(details.params.acr_values, application?.requireMfa ?? false) &&
        !session.factors.includes('mfa')
      ) {
        if (!(await core.singleSignOn.canProveSecondFactor(account.id)))
          return refuse(
            'mfa_required',
            'This application requires multi-factor authentication, which is not set up on this account.',
          );
        // Step up: the same session proves a second factor, then comes back here.
        await core.flow.stepUp(auth, returnTo, request.ip);
        return reply.redirect('/mfa/verify', 303);
      }

      const phishingResistantWanted =
        phishingResistantDemanded(
          details.params.acr_values,
          application?.requirePhishingResistant ?? false,
        ) || core.flow.phishingResistantRequired(account);
      if (phishingResistantWanted && !core.flow.isPhishingResistant(auth)) {
        if (!(await core.flow.hasPasskey(account)))
          return refuse(
            'phishing_resistant_required',
            'This application requires a sign-in with a passkey or a smartcard, and this account has no passkey.',
          );
        // Step up to a passkey only (or a new sign-in with a smartcard), then back here.
        await core.flow.stepUp(auth, returnTo, request.ip, { phishingResistant: true });
        return reply.redirect('/mfa/verify', 303);
      }

      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: account.id, clientId });
      if (!grant) return expired(reply);
      const missing = details.prompt.details as {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      const grantId = await grant.save();
      const acr = acrFor(
        session.factors,
        phishingResistantWanted || phishingResistantAsked(details.params.acr_values),
      );
      await core.flow.returnTo(auth, null);
      await core.audit.record({
        type: 'sso.signed_in',
        email: account.email,
        clientAddress: request.ip,
        detail: { application: clientId, name: application?.name, acr, amr: amrOf(session.factors) },
      });
      return finish(provider, request, reply, {
        // ts: the portal sign-in this answer comes from; every later authorization checks that
        // this portal session is still the one (see the portal_session check in provider.ts).
        login: {
          accountId: account.id,
          acr,
          amr: amrOf(session.factors),
          remember: false,
          ts: signInTime(session),
        },
        consent: { grantId },
      });
    });
  };
}

async function finish(
  provider: Provider,
  request: FastifyRequest,
  reply: FastifyReply,
  result: InteractionResults,
  handOff: HandOff = { purpose: 'sign_in' },
) {
  const url = await provider.interactionResult(request.raw, reply.raw, result, {
    mergeWithLastSubmission: false,
  });
  // A page, not a redirect: this request may be the last hop of a form's redirects, and the next
  // hops end on the application's origin, which form-action 'self' refuses (see hand-off.ts).
  return reply.page(HAND_OFF_TEMPLATE, handOffPage(url, handOff));
}

function expired(reply: FastifyReply) {
  return reply.page(
    'error',
    {
      title: 'This sign-in link has expired',
      heading: 'This sign-in link has expired',
      paragraphs: ['Go back to the application you were using and sign in again.'],
    },
    400,
  );
}
