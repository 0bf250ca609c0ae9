import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

/** A minimal CBOR encoder (RFC 8949) for what attestation 'none' needs: maps, ints, bytes, text. */
type Cbor = number | string | Uint8Array | Map<Cbor, Cbor> | { [key: string]: Cbor };

function head(major: number, value: number): Buffer {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 0x100) return Buffer.from([(major << 5) | 24, value]);
  if (value < 0x10000) return Buffer.from([(major << 5) | 25, value >> 8, value & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(value, 1);
  return b;
}

export function cbor(value: Cbor): Buffer {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, text.length), text]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), Buffer.from(value)]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const b64u = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

interface Credential {
  id: Buffer;
  privateKey: KeyObject;
  publicKey: KeyObject;
  userHandle: string;
  counter: number;
}

/**
 * A software FIDO2 authenticator for attack tests: ES256 keys from node:crypto, attestation
 * 'none', and every field under the test's control (origin, RP ID, counter, user verification),
 * so a test can forge exactly the answer a real attacker could.
 */
export class SoftAuthenticator {
  private readonly credentials: Credential[] = [];

  constructor(readonly attachment: 'platform' | 'cross-platform' = 'cross-platform') {}

  /** The credential IDs this authenticator holds (base64url). */
  get ids(): string[] {
    return this.credentials.map((c) => b64u(c.id));
  }

  /**
   * The first credential as Chromium's virtual authenticator takes it (WebAuthn.addCredential:
   * base64, the private key in PKCS #8), so a browser holds a passkey registered through the core.
   */
  forBrowser(rpId: string) {
    const c = this.credentials[0];
    if (!c) throw new Error('the soft authenticator holds no credential');
    return {
      credentialId: c.id.toString('base64'),
      isResidentCredential: true,
      rpId,
      privateKey: (c.privateKey.export({ format: 'der', type: 'pkcs8' }) as Buffer).toString('base64'),
      userHandle: Buffer.from(c.userHandle, 'base64url').toString('base64'),
      signCount: c.counter,
    };
  }

  /** A copy holding the same keys and counters: a cloned authenticator. */
  clone(): SoftAuthenticator {
    const copy = new SoftAuthenticator(this.attachment);
    for (const c of this.credentials) copy.credentials.push({ ...c });
    return copy;
  }

  private authData(rpId: string, counter: number, uv: boolean, attested?: Credential): Buffer {
    const flags = 0x01 | (uv ? 0x04 : 0) | (attested ? 0x40 : 0);
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    const parts: Buffer[] = [sha256(rpId), Buffer.from([flags]), count];
    if (attested) {
      const jwk = attested.publicKey.export({ format: 'jwk' });
      const cose = cbor(
        new Map<Cbor, Cbor>([
          [1, 2],
          [3, -7],
          [-1, 1],
          [-2, Buffer.from(jwk.x ?? '', 'base64url')],
          [-3, Buffer.from(jwk.y ?? '', 'base64url')],
        ]),
      );
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(attested.id.length);
      parts.push(Buffer.alloc(16), idLength, attested.id, cose);
    }
    return Buffer.concat(parts);
  }

  /** navigator.credentials.create(): a new resident ES256 credential. */
  register(
    options: PublicKeyCredentialCreationOptionsJSON,
    origin: string,
    overrides: { rpId?: string; uv?: boolean; challenge?: string } = {},
  ): RegistrationResponseJSON {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const credential: Credential = {
      id: randomBytes(16),
      privateKey,
      publicKey,
      userHandle: options.user.id,
      counter: 0,
    };
    this.credentials.push(credential);
    const clientDataJSON = JSON.stringify({
      type: 'webauthn.create',
      challenge: overrides.challenge ?? options.challenge,
      origin,
      crossOrigin: false,
    });
    const authData = this.authData(
      overrides.rpId ?? options.rp.id ?? '',
      0,
      overrides.uv ?? true,
      credential,
    );
    const attestationObject = cbor({ fmt: 'none', attStmt: {}, authData });
    return {
      id: b64u(credential.id),
      rawId: b64u(credential.id),
      type: 'public-key',
      response: {
        clientDataJSON: b64u(Buffer.from(clientDataJSON)),
        attestationObject: b64u(attestationObject),
        transports: this.attachment === 'platform' ? ['internal'] : ['usb'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: this.attachment,
    };
  }

  /** navigator.credentials.get(): an assertion by one of its credentials (the first by default). */
  assert(
    options: PublicKeyCredentialRequestOptionsJSON,
    origin: string,
    overrides: {
      rpId?: string;
      uv?: boolean;
      credentialId?: string;
      challenge?: string;
      counter?: number;
    } = {},
  ): AuthenticationResponseJSON {
    const credential = overrides.credentialId
      ? this.credentials.find((c) => b64u(c.id) === overrides.credentialId)
      : this.credentials[0];
    if (!credential) throw new Error('the soft authenticator holds no such credential');
    credential.counter = overrides.counter ?? credential.counter + 1;
    const clientDataJSON = Buffer.from(
      JSON.stringify({
        type: 'webauthn.get',
        challenge: overrides.challenge ?? options.challenge,
        origin,
        crossOrigin: false,
      }),
    );
    const authData = this.authData(
      overrides.rpId ?? options.rpId ?? '',
      credential.counter,
      overrides.uv ?? true,
    );
    const signature = sign(
      'sha256',
      Buffer.concat([authData, sha256(clientDataJSON)]),
      credential.privateKey,
    );
    return {
      id: b64u(credential.id),
      rawId: b64u(credential.id),
      type: 'public-key',
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        userHandle: credential.userHandle,
      },
      clientExtensionResults: {},
      authenticatorAttachment: this.attachment,
    };
  }
}
