import type { FastifyInstance } from 'fastify';
import { isDatabaseUnavailable } from '../../core/errors.ts';
import type { Core } from '../../core/index.ts';

/**
 * /healthz: the process runs (restart it if this fails). /readyz: it can serve requests, its
 * database answers (send it no traffic while this fails; it recovers by itself, no restart).
 */
export function healthRoutes(core: Core) {
  return async (app: FastifyInstance) => {
    app.get('/healthz', async () => ({ status: 'ok' }));
    app.get('/readyz', async (request, reply) => {
      try {
        await core.ping();
        return { status: 'ready' };
      } catch (error) {
        request.log.warn({ err: error }, 'not ready: the database does not answer');
        const retryAfter = isDatabaseUnavailable(error) ? error.retryAfterSeconds : 5;
        return reply
          .code(503)
          .header('retry-after', String(retryAfter))
          .send({ status: 'unavailable', reason: 'database not reachable' });
      }
    });
  };
}
