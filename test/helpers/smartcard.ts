import { readFileSync } from 'node:fs';
import { CertificateTrust } from '../../src/core/methods/smartcard/trust.ts';
import { pemToDer, type pkiFolder, type TestCa } from './pki.ts';
import { startTestPortal, type TestPortal } from './portal.ts';

export interface CardWorld {
  /** The CA that issues cards (trusted by the portal), and the one that made the endpoint's TLS certificate. */
  ca: TestCa;
  serverCa: TestCa;
  trust: CertificateTrust;
  tls: { key: string; cert: string };
}

/** A card CA with its current CRL as the portal's trust, and a TLS certificate for the endpoint. */
export function cardWorld(pki: ReturnType<typeof pkiFolder>): CardWorld {
  const ca = pki.ca('Test Care Identity CA');
  const serverCa = pki.ca('Test Server CA');
  const server = serverCa.issue('endpoint', { usage: 'serverAuth', serverName: '127.0.0.1' });
  const trust = new CertificateTrust([pemToDer(ca.pem)], { revocationRequired: true });
  trust.setRevocationLists([ca.crl().der]);
  return { ca, serverCa, trust, tls: { key: readFileSync(server.keyFile, 'utf8'), cert: server.certPem } };
}

/** A listening portal whose certificate endpoint (own TLS) trusts the world's card CA. */
export function cardPortal(
  world: CardWorld,
  extra: Parameters<typeof startTestPortal>[0] = {},
): Promise<TestPortal> {
  return startTestPortal({ listen: true, ...extra, smartcard: { trust: world.trust, tls: world.tls } });
}
