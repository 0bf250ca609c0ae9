import { createPublicKey, type JsonWebKey, type KeyObject, verify } from 'node:crypto';
import { z } from 'zod';

export const PROTOCOL_TAG = 'gatehouse-authenticator-v1';
/** How far a signed timestamp may be from the server's clock. */
export const SIGNATURE_SKEW_MS = 5 * 60_000;

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/);

/** The only key type accepted: an ECDSA P-256 public key as WebCrypto exports it. */
export const devicePublicKeySchema = z
  .object({
    kty: z.literal('EC'),
    crv: z.literal('P-256'),
    x: base64url.length(43),
    y: base64url.length(43),
  })
  .strip();

export type DevicePublicKey = z.infer<typeof devicePublicKeySchema>;

/** Throws when the key is not a valid point on the curve. */
export function checkPublicKey(key: DevicePublicKey): void {
  createPublicKey({ key: key as JsonWebKey, format: 'jwk' });
}

export function signedLines(...lines: string[]): Buffer {
  return Buffer.from([PROTOCOL_TAG, ...lines].join('\n'), 'utf8');
}

// Importing a JWK costs more than verifying with it; devices sign every call, so keep the
// imported keys (by their coordinates: the same point is the same key), boundedly.
const importedKeys = new Map<string, KeyObject>();
const MAX_IMPORTED_KEYS = 10_000;

function importedKey(key: DevicePublicKey): KeyObject {
  const id = `${key.x}.${key.y}`;
  let imported = importedKeys.get(id);
  if (!imported) {
    imported = createPublicKey({ key: key as JsonWebKey, format: 'jwk' });
    if (importedKeys.size >= MAX_IMPORTED_KEYS) importedKeys.clear();
    importedKeys.set(id, imported);
  }
  return imported;
}

/** ECDSA-SHA256 over `message`, the signature in IEEE P1363 form (r || s) as WebCrypto makes it. */
export function verifyDeviceSignature(key: DevicePublicKey, message: Buffer, signature: string): boolean {
  if (!/^[A-Za-z0-9_-]{80,100}$/.test(signature)) return false;
  try {
    return verify(
      'sha256',
      message,
      { key: importedKey(key), dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature, 'base64url'),
    );
  } catch {
    return false;
  }
}
