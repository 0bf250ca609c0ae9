import type { Socket } from 'node:net';
import { type DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { pemBlocks } from '../../core/methods/smartcard/pem.ts';

/**
 * The certificates the browser sent in our own TLS handshake, leaf first. The handshake has
 * already proved the browser holds the leaf's private key (on the card); whether to trust the
 * certificates is decided later, by the core, with the same rules as for a proxy's header.
 */
export function chainFromTls(socket: Socket): Uint8Array[] {
  if (!(socket instanceof TLSSocket)) return [];
  const chain: Uint8Array[] = [];
  const seen = new Set<string>();
  let current: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  // A self-signed certificate is its own issuer: the walk stops at the first repeat.
  while (current?.raw && !seen.has(current.fingerprint256)) {
    seen.add(current.fingerprint256);
    chain.push(current.raw);
    current = current.issuerCertificate;
  }
  return chain;
}

/**
 * The certificate a TLS-terminating proxy passes on: nginx's `$ssl_client_escaped_cert`
 * (URL-encoded PEM) or HAProxy's `ssl_c_der,base64` (base64 DER). Whatever else arrives is passed
 * on as bytes, and the core refuses it as unreadable.
 */
export function chainFromHeader(value: string): Uint8Array[] {
  let text = value.trim().replace(/^"|"$/g, '');
  if (text === '' || text === '(null)') return [];
  if (text.includes('%')) {
    try {
      text = decodeURIComponent(text);
    } catch {
      return [Buffer.from(text)];
    }
  }
  if (text.includes('-----BEGIN CERTIFICATE-----')) {
    const blocks = pemBlocks(text, 'CERTIFICATE');
    return blocks.length > 0 ? blocks : [Buffer.from(text)];
  }
  return /^[A-Za-z0-9+/=\s]+$/.test(text)
    ? [Buffer.from(text.replace(/\s+/g, ''), 'base64')]
    : [Buffer.from(text)];
}

/** 127.0.0.1 and ::ffff:127.0.0.1 are the same client. */
export function plainAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}
