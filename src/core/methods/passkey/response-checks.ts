import { createHash } from 'node:crypto';
import { isoBase64URL, parseAuthenticatorData } from '@simplewebauthn/server/helpers';
import { z } from 'zod';
import { GatehouseError } from '../../errors.ts';

/** What the browser's clientDataJSON says (WebAuthn §5.8.1), read before any check. */
const clientData = z.object({ type: z.string(), challenge: z.string(), origin: z.string() });

/** The challenge and origin a response answers; `passkey_rejected` when it is not readable. */
export function readClientData(clientDataJSON: string) {
  try {
    return clientData.parse(JSON.parse(isoBase64URL.toUTF8String(clientDataJSON)));
  } catch {
    throw new GatehouseError('passkey_rejected');
  }
}

/** Refuses a response made for another site: another origin, or authenticator data for another RP ID. */
export function checkSite(origin: string, expectedOrigin: string, authenticatorData?: string) {
  if (origin !== expectedOrigin) throw new GatehouseError('passkey_wrong_site');
  if (authenticatorData === undefined) return;
  let rpIdHash: Uint8Array;
  try {
    rpIdHash = parseAuthenticatorData(isoBase64URL.toBuffer(authenticatorData)).rpIdHash;
  } catch {
    throw new GatehouseError('passkey_rejected');
  }
  const expected = createHash('sha256').update(rpIdOf(expectedOrigin)).digest();
  if (!expected.equals(Buffer.from(rpIdHash))) throw new GatehouseError('passkey_wrong_site');
}

/** The relying party ID: the host name of the portal's public address. */
export const rpIdOf = (origin: string) => new URL(origin).hostname;
