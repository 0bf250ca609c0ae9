import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticatorAppFiles } from '../authenticator-app-bundle.ts';

/**
 * The app's Content Security Policy. Like the portal's, it allows no inline script and nothing
 * from other origins, except that the app may call other Gatehouse servers: one app holds accounts
 * of several servers, each reached at an HTTPS address the user adds (the device API answers any
 * origin, and sends no cookies), so connect-src allows 'self' and any https: address.
 * mediastream: and blob: are for the camera view that scans QR codes.
 */
export const AUTHENTICATOR_APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' https:",
  "worker-src 'self'",
  "manifest-src 'self'",
  "media-src 'self' blob: mediastream:",
  "font-src 'self' https: data:",
  "script-src-attr 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The installable authenticator web app at /authenticator/ (manifest, service worker, icons).
 * Every file is revalidated on each use (no-cache with an ETag): the service worker keeps the
 * offline copy, and a new version reaches phones as soon as they are online.
 */
export function authenticatorAppRoutes() {
  return async (app: FastifyInstance) => {
    const serve = async (request: FastifyRequest, reply: FastifyReply) => {
      const path = request.url.split('?')[0] ?? '';
      // The fragment (#activate=…) stays with the browser across the redirect.
      if (path === '/authenticator') return reply.redirect('/authenticator/', 301);
      const files = await authenticatorAppFiles();
      const found = files[path];
      if (!found) return reply.callNotFound();
      reply
        .header('cache-control', 'no-cache')
        .header('etag', found.etag)
        .header('x-content-type-options', 'nosniff');
      if (path === '/authenticator/') reply.header('content-security-policy', AUTHENTICATOR_APP_CSP);
      if (path === '/authenticator/sw.js') reply.header('service-worker-allowed', '/authenticator/');
      if (request.headers['if-none-match'] === found.etag) return reply.code(304).send();
      return reply.type(found.contentType).send(found.body);
    };
    // With ignoreTrailingSlash, the first is /authenticator too.
    app.get('/authenticator/', serve);
    app.get('/authenticator/*', serve);
  };
}
