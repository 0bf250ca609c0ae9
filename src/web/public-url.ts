import type { FastifyRequest } from 'fastify';

/** The portal's address as people reach it: configured, or else the one this request came to. */
export function publicUrlOf(request: FastifyRequest, configured: string | undefined): string {
  if (configured) return configured.replace(/\/+$/, '');
  return `${request.protocol}://${request.host}`;
}
