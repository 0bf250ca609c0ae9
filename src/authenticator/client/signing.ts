/** The device key and the protocol's signatures (docs/authenticator-protocol.md), on WebCrypto. */

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const PROTOCOL_TAG = 'gatehouse-authenticator-v1';

export interface PublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

/**
 * A new device key pair. In a browser it is non-extractable (kept in IndexedDB as a CryptoKey);
 * the command line must write it to a file, so it asks for an extractable one.
 */
export async function generateDeviceKeys(extractable: boolean): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(ALGORITHM, extractable, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function publicJwk(keys: CryptoKeyPair): Promise<PublicJwk> {
  const { x, y } = await crypto.subtle.exportKey('jwk', keys.publicKey);
  if (!x || !y) throw new Error('the public key could not be exported');
  return { kty: 'EC', crv: 'P-256', x, y };
}

export async function importPrivateJwk(jwk: JsonWebKey): Promise<CryptoKey> {
  return crypto.subtle.importKey('jwk', jwk, ALGORITHM, false, ['sign']);
}

/** ECDSA-SHA256 over the protocol lines; WebCrypto's r||s form, base64url without padding. */
export async function signLines(privateKey: CryptoKey, lines: string[]): Promise<string> {
  const data = new TextEncoder().encode([PROTOCOL_TAG, ...lines].join('\n'));
  const signature = new Uint8Array(
    await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, data),
  );
  return base64url(signature);
}

export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}
