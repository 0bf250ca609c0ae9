/**
 * The device's screen lock (fingerprint, face, or the phone's own PIN) instead of the app's PIN,
 * where the platform offers it: a WebAuthn credential of a user-verifying platform authenticator,
 * made for this app only. Before an approval the app asks for an assertion with user verification
 * on a fresh challenge and checks it itself (challenge, origin, the user-verified flag and the
 * signature with the credential's public key), so a made-up answer does not pass.
 */

import { base64url } from '../client/signing.ts';
import { base64urlBytes } from './format.ts';

export interface ScreenLock {
  credentialId: string;
  /** The credential's public key (ES256), SubjectPublicKeyInfo, base64url. */
  publicKey: string;
}

const ES256 = -7;
const USER_PRESENT = 0x01;
const USER_VERIFIED = 0x04;

/** WebAuthn needs a domain name (not an IP address) and a secure context. */
export function screenLockPossibleAt(hostname: string, secure: boolean): boolean {
  return secure && !/^[\d.]+$/.test(hostname) && !hostname.includes(':') && !hostname.startsWith('[');
}

export async function screenLockAvailable(): Promise<boolean> {
  try {
    return (
      typeof PublicKeyCredential !== 'undefined' &&
      screenLockPossibleAt(location.hostname, window.isSecureContext) &&
      (await PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable())
    );
  } catch {
    return false;
  }
}

export async function setUpScreenLock(): Promise<ScreenLock> {
  const credential = (await navigator.credentials.create({
    publicKey: {
      rp: { name: 'Gatehouse Authenticator', id: location.hostname },
      user: {
        id: crypto.getRandomValues(new Uint8Array(16)),
        name: 'Gatehouse Authenticator',
        displayName: 'Gatehouse Authenticator',
      },
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      pubKeyCredParams: [{ type: 'public-key', alg: ES256 }],
      authenticatorSelection: {
        authenticatorAttachment: 'platform',
        userVerification: 'required',
        residentKey: 'discouraged',
      },
      attestation: 'none',
      timeout: 60_000,
    },
  })) as PublicKeyCredential | null;
  if (!credential) throw new Error('no credential was made');
  const response = credential.response as AuthenticatorAttestationResponse;
  const spki = response.getPublicKey();
  if (!spki || response.getPublicKeyAlgorithm() !== ES256)
    throw new Error('the screen lock key is not ES256');
  return {
    credentialId: base64url(new Uint8Array(credential.rawId)),
    publicKey: base64url(new Uint8Array(spki)),
  };
}

/** Asks for the screen lock; true only for a verified assertion of this credential. */
export async function confirmWithScreenLock(lock: ScreenLock): Promise<boolean> {
  const challenge = crypto.getRandomValues(new Uint8Array(32));
  const credential = (await navigator.credentials.get({
    publicKey: {
      challenge,
      rpId: location.hostname,
      allowCredentials: [{ type: 'public-key', id: base64urlBytes(lock.credentialId) }],
      userVerification: 'required',
      timeout: 60_000,
    },
  })) as PublicKeyCredential | null;
  if (!credential) return false;
  const response = credential.response as AuthenticatorAssertionResponse;
  return verifyAssertion({
    publicKey: lock.publicKey,
    challenge,
    origin: location.origin,
    authenticatorData: new Uint8Array(response.authenticatorData),
    clientDataJSON: new Uint8Array(response.clientDataJSON),
    signature: new Uint8Array(response.signature),
  });
}

/** Checks a WebAuthn assertion (ES256) as a relying party would. */
export async function verifyAssertion(assertion: {
  publicKey: string;
  challenge: Uint8Array;
  origin: string;
  authenticatorData: Uint8Array;
  clientDataJSON: Uint8Array;
  signature: Uint8Array;
}): Promise<boolean> {
  try {
    const client = JSON.parse(new TextDecoder().decode(assertion.clientDataJSON)) as {
      type?: string;
      challenge?: string;
      origin?: string;
    };
    if (client.type !== 'webauthn.get') return false;
    if (client.challenge !== base64url(assertion.challenge)) return false;
    if (client.origin !== assertion.origin) return false;
    const flags = assertion.authenticatorData[32];
    if (flags === undefined || (flags & USER_PRESENT) === 0 || (flags & USER_VERIFIED) === 0) return false;
    const key = await crypto.subtle.importKey(
      'spki',
      base64urlBytes(assertion.publicKey),
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    const clientHash = new Uint8Array(await crypto.subtle.digest('SHA-256', copy(assertion.clientDataJSON)));
    const signed = new Uint8Array(assertion.authenticatorData.length + clientHash.length);
    signed.set(assertion.authenticatorData);
    signed.set(clientHash, assertion.authenticatorData.length);
    const signature = derToP1363(assertion.signature);
    if (!signature) return false;
    return await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, signed);
  } catch {
    return false;
  }
}

function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes) as Uint8Array<ArrayBuffer>;
}

/** An ASN.1 DER ECDSA signature (WebAuthn's form) as r || s, 32 bytes each (WebCrypto's form). */
export function derToP1363(der: Uint8Array): Uint8Array<ArrayBuffer> | undefined {
  if (der[0] !== 0x30) return undefined;
  let offset = 2;
  const out = new Uint8Array(64);
  for (let part = 0; part < 2; part++) {
    if (der[offset] !== 0x02) return undefined;
    const length = der[offset + 1] ?? 0;
    let value = der.subarray(offset + 2, offset + 2 + length);
    while (value.length > 32 && value[0] === 0) value = value.subarray(1);
    if (value.length > 32 || value.length === 0) return undefined;
    out.set(value, part * 32 + (32 - value.length));
    offset += 2 + length;
  }
  return out as Uint8Array<ArrayBuffer>;
}
