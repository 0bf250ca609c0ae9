import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';
import type { Core } from '../core/index.ts';
import { homeFor } from '../web/session.ts';
import { acrFor, mfaDemanded } from './acr.ts';

export const INTERACTION_PATH = /^\/interaction\/[A-Za-z0-9_-]{1,64}$/;

/**
 * The provider's sign-in and consent steps are the portal's own pages: no portal session, or one
 * still at the MFA step, goes through them first and comes back here; then the application gets
 * its answer. Registered applications are first-party, so consent is given without a page.
 */
export function interactionRoutes(core: Core, providerFor: (request: FastifyRequest) => Provider) {
  return async (app: FastifyInstance) => {
    app.get('/interaction/:uid', async (request, reply) => {
      const provider = providerFor(request);
      let details: Awaited<ReturnType<Provider['interactionDetails']>>;
      try {
        details = await provider.interactionDetails(request.raw, reply.raw);
      } catch {
        return expired(reply);
      }
      const returnTo = `/interaction/${details.uid}`;
      const auth = request.auth;
      if (!auth) return reply.redirect(`/signin?return=${encodeURIComponent(returnTo)}`, 303);
      const { account, session } = auth;
      if (session.stage !== 'complete') {
        await core.flow.returnTo(auth, returnTo);
        return reply.redirect(homeFor(session.stage), 303);
      }

      const clientId = String(details.params.client_id);
      const application = await core.applications.find(clientId);
      if (
        mfaDemanded(details.params.acr_values, application?.requireMfa ?? false) &&
        !session.factors.includes('mfa')
      ) {
        if ((await core.methods.list(account)).methods.length > 0) {
          // Step up: the same session proves a second factor, then comes back here.
          await core.flow.stepUp(auth, returnTo, request.ip);
          return reply.redirect('/mfa/verify', 303);
        }
        await core.audit.record({
          type: 'sso.refused',
          email: account.email,
          clientAddress: request.ip,
          detail: { application: clientId, reason: 'mfa_required_but_not_set_up' },
        });
        return finish(provider, request, reply, {
          error: 'access_denied',
          error_description:
            'This application requires multi-factor authentication, which is not set up on this account.',
        });
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
      const acr = acrFor(session.factors);
      await core.flow.returnTo(auth, null);
      await core.audit.record({
        type: 'sso.signed_in',
        email: account.email,
        clientAddress: request.ip,
        detail: { application: clientId, name: application?.name, acr, amr: session.factors },
      });
      return finish(provider, request, reply, {
        login: { accountId: account.id, acr, amr: session.factors, remember: false },
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
) {
  const url = await provider.interactionResult(request.raw, reply.raw, result, {
    mergeWithLastSubmission: false,
  });
  return reply.redirect(url, 303);
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
