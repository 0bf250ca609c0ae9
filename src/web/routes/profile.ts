import type { FastifyInstance } from 'fastify';
import { type Core, isGatehouseError } from '../../core/index.ts';
import { requireStage, signedIn } from '../session.ts';

export function profileRoutes(core: Core) {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireStage('complete'));

    app.get('/profile', async (_request, reply) => reply.page('profile', { title: 'My profile' }));

    app.get('/profile/self-service', async (request, reply) => {
      const { account, session } = signedIn(request);
      const [eligibility, flash, methods] = await Promise.all([
        core.enrolment.eligibility(account),
        core.sessions.takeFlash(session),
        core.methods.list(account),
      ]);
      return reply.page('self-service', {
        title: 'Self-Service',
        eligibility,
        flash,
        needsMethod: account.mfaEnabled && methods.methods.length === 0,
      });
    });

    app.get('/profile/self-service/mfa', async (request, reply) => {
      const { account } = signedIn(request);
      const eligibility = await core.enrolment.eligibility(account);
      if (account.mfaEnabled || !eligibility.allowed) return reply.redirect('/profile/self-service', 303);
      return reply.page('confirm-mfa', { title: 'Enable multi-factor authentication' });
    });

    app.post('/profile/self-service/mfa', async (request, reply) => {
      const active = signedIn(request);
      const { account, session } = active;
      try {
        await core.flow.enableMfa(active, request.ip);
        await core.sessions.setFlash(session, `success: MFA enabled successfully for ${account.email}`);
      } catch (error) {
        // Already enabled, or not allowed: the self-service page explains the account's state.
        if (!isGatehouseError(error)) throw error;
      }
      return reply.redirect('/profile/self-service', 303);
    });
  };
}
