import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.ts';
import { requireStage } from '../session.ts';

export function mfaRegistrationRoutes(_core: Core) {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireStage('register_mfa', 'complete'));
    app.get('/mfa/register', async (_request, reply) =>
      reply.page('mfa-register', { title: 'Set up multi-factor authentication' }),
    );
    app.get('/mfa/register/start', async (_request, reply) =>
      reply.page('mfa-register-start', { title: 'Keep your account secure' }),
    );
  };
}
