import { readFileSync } from 'node:fs';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Core } from '../core/index.ts';
import { derOf } from '../core/methods/smartcard/pem.ts';
import type { SmartcardSettings } from '../core/methods/smartcard/settings.ts';
import { CertificateTrust } from '../core/methods/smartcard/trust.ts';
import { buildCertificateEndpoint } from '../web/smartcard/endpoint.ts';
import { httpOcspTransport } from './ocsp-transport.ts';
import { revocationLists } from './revocation-lists.ts';
import type { SmartcardConfig } from './settings.ts';

/** The trusted CAs and the first load of their revocation lists; refreshed by `startCertificateEndpoint`. */
export async function loadCertificateTrust(config: SmartcardConfig, logger: FastifyBaseLogger) {
  const anchors = derOf(readFileSync(config.trustedCaFile), 'CERTIFICATE');
  const trust = new CertificateTrust(anchors, {
    revocationRequired: config.revocationRequired,
    ocsp: config.ocsp ? httpOcspTransport(config.ocspTimeoutSeconds) : undefined,
  });
  const crls = revocationLists(trust, { files: config.crlFiles, urls: config.crlUrls }, logger);
  await crls.refresh();
  const settings: SmartcardSettings = { mapping: config.mapping, ticketSeconds: config.ticketSeconds };
  return { trust, settings, refresh: crls.refresh };
}

/** Starts the certificate endpoint on its own port and refreshes the CRLs on a schedule. */
export async function startCertificateEndpoint(
  core: Core,
  config: SmartcardConfig,
  deps: {
    logger: FastifyBaseLogger;
    organisation: { name: string; logoUrl?: string | undefined };
    portalUrl: string;
    host: string;
    refresh: () => Promise<number>;
  },
): Promise<FastifyInstance> {
  const tls =
    config.tlsCertFile && config.tlsKeyFile
      ? { cert: readFileSync(config.tlsCertFile, 'utf8'), key: readFileSync(config.tlsKeyFile, 'utf8') }
      : undefined;
  const endpoint = await buildCertificateEndpoint({
    core,
    logger: deps.logger,
    organisation: deps.organisation,
    portalUrl: deps.portalUrl,
    tls,
    trustedProxies: config.trustedProxies,
    certificateHeader: config.certificateHeader,
  });
  const timer = setInterval(() => void deps.refresh(), config.crlRefreshMinutes * 60_000);
  timer.unref();
  endpoint.addHook('onClose', async () => clearInterval(timer));
  await endpoint.listen({ port: config.port, host: deps.host });
  return endpoint;
}
