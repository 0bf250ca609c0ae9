import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';

export interface MetricsSource {
  render(): Promise<string>;
  readonly contentType: string;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Whether an Authorization header carries the bearer token. Compared as digests in constant
 * time, so neither the token's length nor its first characters can be learnt by timing.
 */
export function bearerTokenMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer (\S{1,512})$/.exec(header ?? '');
  return !!match?.[1] && timingSafeEqual(digest(match[1]), digest(token));
}

/**
 * `GET /metrics` on the portal, for a scraper that sends the configured bearer token. Without a
 * token the route is not there at all (404, like any unknown page); with a wrong one, 401.
 */
export function metricsRoute(source: MetricsSource, token: string) {
  return async (app: FastifyInstance) => {
    app.get('/metrics', { config: { csrf: false } }, async (request, reply) => {
      reply.header('cache-control', 'no-store');
      if (!bearerTokenMatches(request.headers.authorization, token)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="metrics"')
          .type('text/plain; charset=utf-8')
          .send('The metrics need the bearer token configured as GATEHOUSE_METRICS_TOKEN.\n');
      }
      return reply.type(source.contentType).send(await source.render());
    });
  };
}

/**
 * The metrics on a port of their own (a monitoring network, 127.0.0.1 by default), where the
 * portal's pages are not served; a bearer token is asked for there too when one is configured.
 */
export async function startMetricsListener(
  source: MetricsSource,
  options: { port: number; host: string; token?: string | undefined },
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('Not found: try /metrics\n');
      return;
    }
    if (options.token && !bearerTokenMatches(request.headers.authorization, options.token)) {
      response
        .writeHead(401, {
          'content-type': 'text/plain; charset=utf-8',
          'www-authenticate': 'Bearer realm="metrics"',
        })
        .end('The metrics need the configured bearer token.\n');
      return;
    }
    source.render().then(
      (text) =>
        response
          .writeHead(200, { 'content-type': source.contentType, 'cache-control': 'no-store' })
          .end(text),
      () =>
        response
          .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          .end('The metrics could not be read.\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
