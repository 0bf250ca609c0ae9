import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify, { LogController } from 'fastify';
import { z } from 'zod';
import { isDatabaseUnavailable } from '../../core/errors.ts';
import { type Core, isGatehouseError } from '../../core/index.ts';
import type { CertificateSummary } from '../../core/methods/smartcard/certificate.ts';
import type { CertificateTicketPurpose } from '../../core/model.ts';
import { registerSecurityHeaders, registerStaticFiles } from '../app.ts';
import { databaseUnavailableWords } from '../messages.ts';
import { pageRenderer } from '../page.ts';
import { formatDateTime } from '../time-format.ts';
import { certificateMessage } from './messages.ts';
import { chainFromHeader, chainFromTls, plainAddress } from './presented-chain.ts';

export interface CertificateEndpointOptions {
  core: Core;
  logger: FastifyBaseLogger;
  organisation: { name: string; logoUrl?: string | undefined };
  /** Where the portal is, for `Next` and the way back. */
  portalUrl: string;
  /** Our own TLS, asking every browser for its certificate; without it, only a proxy's header counts. */
  tls?: { key: string; cert: string } | undefined;
  /** Addresses of TLS-terminating proxies whose certificate header is believed. */
  trustedProxies: string[];
  /** The header those proxies put the verified client certificate in. */
  certificateHeader: string;
}

/** A certificate header can hold a chain of a few certificates, URL-encoded; more is refused by Node. */
const MAX_HEADER_BYTES = 64 * 1024;

const stateQuery = z.object({ state: z.string().regex(/^[A-Za-z0-9_-]{43}$/) });

/**
 * The certificate endpoint: its own port (or host), so that only these pages ask the browser for
 * a certificate and the rest of the portal never shows a certificate prompt. It checks the card,
 * then hands a one-time ticket to the portal with `Next`.
 */
export async function buildCertificateEndpoint(
  options: CertificateEndpointOptions,
): Promise<FastifyInstance> {
  const { core, portalUrl } = options;
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024,
    ...(options.tls
      ? {
          https: {
            ...options.tls,
            // The CA list goes in the CertificateRequest, so browsers offer only cards those CAs issued.
            ca: core.smartcard.trustedCaPem(),
            requestCert: true,
            // Untrusted or expired cards still finish the handshake, so the page can say what is wrong.
            rejectUnauthorized: false,
            minVersion: 'TLSv1.2' as const,
            maxHeaderSize: MAX_HEADER_BYTES,
          },
        }
      : { http: { maxHeaderSize: MAX_HEADER_BYTES } }),
  });
  await registerSecurityHeaders(app, options.organisation);
  await registerStaticFiles(app);
  const render = pageRenderer(options.organisation);
  const trusted = new Set(options.trustedProxies.map(plainAddress));
  const headerName = options.certificateHeader.toLowerCase();

  const page = (reply: FastifyReply, template: string, context: Record<string, unknown>, status = 200) =>
    reply
      .code(status)
      .header('cache-control', 'no-store')
      // The ticket travels in the Next link: no Referer may carry it on.
      .header('referrer-policy', 'no-referrer')
      .type('text/html; charset=utf-8')
      .send(render(template, { portalUrl, ...context }));

  // The database away: the portal's "try again" page, not Fastify's JSON naming the failure.
  app.setErrorHandler(async (error, request, reply) => {
    if (!isDatabaseUnavailable(error)) throw error;
    request.log.warn(
      { reason: error.reason, err: error.cause },
      'database unavailable: answered 503, try again',
    );
    reply.header('retry-after', String(error.retryAfterSeconds));
    const { title, paragraphs } = databaseUnavailableWords;
    return page(reply, 'error', { title, heading: title, paragraphs: [...paragraphs] }, 503);
  });

  async function presentedChain(request: FastifyRequest) {
    const peer = plainAddress(request.socket.remoteAddress);
    const header = request.headers[headerName];
    const fromTls = chainFromTls(request.socket);
    if (header !== undefined) {
      if (trusted.has(peer)) return chainFromHeader(Array.isArray(header) ? (header[0] ?? '') : header);
      await core.smartcard.headerIgnored(peer, headerName);
      request.log.warn({ peer, header: headerName }, 'certificate header from an untrusted address ignored');
    }
    return fromTls;
  }

  for (const [purpose, { path, restart, next, title }] of Object.entries(PURPOSES) as [
    CertificateTicketPurpose,
    (typeof PURPOSES)[CertificateTicketPurpose],
  ][]) {
    app.get(path, async (request, reply) => {
      const query = stateQuery.safeParse(request.query);
      if (!query.success)
        return page(
          reply,
          'smartcard-problem',
          {
            title,
            message: certificateMessage('certificate_ticket_invalid'),
            retryUrl: `${portalUrl}${restart}`,
          },
          400,
        );
      try {
        const result = await core.smartcard.present({
          chain: await presentedChain(request),
          purpose,
          state: query.data.state,
          clientAddress: plainAddress(request.socket.remoteAddress),
        });
        return page(reply, 'smartcard-checked', {
          title,
          purpose,
          card: describeCard(result.certificate),
          account: result.account?.email,
          nextUrl: `${portalUrl}${next}?${new URLSearchParams({ ticket: result.ticket })}`,
        });
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        return page(
          reply,
          'smartcard-problem',
          {
            title,
            message: certificateMessage(error.code),
            retryUrl: `${portalUrl}${restart}`,
            purpose,
          },
          error.code === 'certificate_missing' ? 401 : 403,
        );
      }
    });
  }
  app.get('/', async (_request, reply) => reply.redirect(`${portalUrl}/signin`, 303));
  return app;
}

/** Each use of a card: the endpoint's path, where to start again, where the portal takes the ticket. */
const PURPOSES: Record<
  CertificateTicketPurpose,
  { path: string; restart: string; next: string; title: string }
> = {
  sign_in: {
    path: '/signin',
    restart: '/signin/smartcard',
    next: '/signin/smartcard/complete',
    title: 'Log in with my Care identity',
  },
  bind: {
    path: '/bind',
    restart: '/profile/security-info/smartcard',
    next: '/profile/security-info/smartcard/complete',
    title: 'Add your smartcard',
  },
  reset: {
    path: '/reset',
    restart: '/signin/forgot',
    next: '/signin/forgot/smartcard/complete',
    title: 'Reset your password',
  },
};

function describeCard(c: CertificateSummary) {
  return {
    name: c.commonName,
    issuer: c.issuer,
    serial: c.serial,
    validUntil: formatDateTime(new Date(c.notAfter)),
  };
}
