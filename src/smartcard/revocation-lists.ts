import { readFile } from 'node:fs/promises';
import type { FastifyBaseLogger } from 'fastify';
import { derOf } from '../core/methods/smartcard/pem.ts';
import type { CertificateTrust } from '../core/methods/smartcard/trust.ts';

/** A CRL of a large CA is a few megabytes; anything larger is refused. */
const MAX_CRL_BYTES = 20 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 15_000;

export interface CrlSources {
  files: string[];
  urls: string[];
}

async function fetchCrl(url: string): Promise<Buffer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > MAX_CRL_BYTES) throw new Error('too large');
  const body = Buffer.from(await response.arrayBuffer());
  if (body.length > MAX_CRL_BYTES) throw new Error('too large');
  return body;
}

/**
 * Reads every list and gives the trust all that could be read. A source that fails keeps its last
 * good copy, so a CRL server that is briefly down refuses no one; when a kept copy passes its
 * next update the core treats its certificates as unknown (refused when revocation is required).
 */
export function revocationLists(trust: CertificateTrust, sources: CrlSources, logger: FastifyBaseLogger) {
  const lastGood = new Map<string, Uint8Array[]>();
  async function load(source: string, read: () => Promise<Buffer>) {
    try {
      const ders = derOf(await read(), 'X509 CRL');
      lastGood.set(source, ders);
    } catch (error) {
      logger.warn(
        { source, err: error },
        'a certificate revocation list could not be read; keeping the last copy',
      );
    }
  }
  async function refresh(): Promise<number> {
    await Promise.all([
      ...sources.files.map((file) => load(file, () => readFile(file))),
      ...sources.urls.map((url) => load(url, () => fetchCrl(url))),
    ]);
    const loaded = trust.setRevocationLists([...lastGood.values()].flat());
    logger.info({ loaded }, 'certificate revocation lists loaded');
    return loaded;
  }
  return { refresh };
}
