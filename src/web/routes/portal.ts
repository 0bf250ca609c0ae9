import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.ts';
import { requireStage, signedIn } from '../session.ts';

export function portalRoutes(core: Core) {
  return async (app: FastifyInstance) => {
    app.get('/', { preHandler: requireStage('complete') }, async (request, reply) => {
      const flash = await core.sessions.takeFlash(signedIn(request).session);
      return reply.page('home', { title: 'Home', flash });
    });
  };
}
