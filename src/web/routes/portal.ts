import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.ts';
import { requireStage } from '../session.ts';

export function portalRoutes(core: Core) {
  return async (app: FastifyInstance) => {
    app.get('/', { preHandler: requireStage('complete') }, async (request, reply) => {
      const flash = await core.sessions.takeFlash(request.auth!.session);
      return reply.page('home', { title: 'Home', flash });
    });
  };
}
