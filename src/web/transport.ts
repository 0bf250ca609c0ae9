import type { FastifyRequest } from 'fastify';

/**
 * How a browser reached the portal, as far as one request can tell:
 * - `https`: over TLS, to the portal or to a proxy that says so (X-Forwarded-Proto from an address
 *   in trustProxy), or `publicUrl` is an https address (the operator says browsers use HTTPS);
 * - `loopback`: plain HTTP to localhost, where browsers accept Secure cookies all the same
 *   (http://localhost is a secure context), so the quick start works with cookieSecure on;
 * - `plain`: plain HTTP to any other name: Secure cookies would travel in clear and be dropped.
 */
export type Transport = 'https' | 'loopback' | 'plain';

export function transportOf(request: FastifyRequest, publicUrl: string | undefined): Transport {
  if (request.protocol === 'https') return 'https';
  if (publicUrl?.startsWith('https:')) return 'https';
  return isLoopbackName(request.hostname) ? 'loopback' : 'plain';
}

export function isLoopbackName(hostname: string): boolean {
  const name = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    name === 'localhost' || name.endsWith('.localhost') || name === '::1' || /^127(\.\d{1,3}){3}$/.test(name)
  );
}

/** What the operator reads when Secure cookies meet plain HTTP: the settings that fix it. */
export const PLAIN_HTTP_WITH_SECURE_COOKIES =
  'a request reached the portal over plain HTTP while cookieSecure (GATEHOUSE_COOKIE_SECURE) is true, ' +
  'so single sign-on cannot set its Secure cookies and refused it. Behind a TLS proxy: make the proxy ' +
  'send X-Forwarded-Proto: https (nginx: proxy_set_header X-Forwarded-Proto $scheme) and list its ' +
  'address in trustProxy (GATEHOUSE_TRUST_PROXY), or set publicUrl (GATEHOUSE_PUBLIC_URL) to the ' +
  "portal's https:// address. Plain HTTP on a name other than localhost needs GATEHOUSE_COOKIE_SECURE=false " +
  '(never in production)';

/** Said at start when the configured address itself is plain HTTP (not localhost) with Secure cookies. */
export const PLAIN_HTTP_PUBLIC_URL =
  'publicUrl (GATEHOUSE_PUBLIC_URL) is a plain http:// address while cookieSecure (GATEHOUSE_COOKIE_SECURE) ' +
  'is true: browsers keep Secure cookies only over HTTPS (and on localhost), so sign-in and single sign-on ' +
  'would fail. Set publicUrl to the https:// address users reach (a TLS proxy in front, sending ' +
  'X-Forwarded-Proto), or GATEHOUSE_COOKIE_SECURE=false on a closed test network only';
