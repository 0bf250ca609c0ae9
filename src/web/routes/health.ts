import type { FastifyInstance } from 'fastify';
import type { Core } from '../../core/index.ts';

export function healthRoutes(core: Core) {
  return async (app: FastifyInstance) => {
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.get('/readyz', async (request, reply) => {
      try {
        await core.ping();
        return { status: 'ready' };
      } catch (error) {
        request.log.warn({ err: error }, 'database not reachable');
        return reply.code(503).send({ status: 'unavailable', reason: 'database not reachable' });
      }
    });
  };
}
