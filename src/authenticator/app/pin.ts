/** The app's PIN: at least 4 digits, kept only as a salted PBKDF2-SHA-256 hash. */

import { base64url } from '../client/signing.ts';

export interface PinHash {
  salt: string;
  hash: string;
  iterations: number;
}

export const PIN_ITERATIONS = 310_000;

/** Why a chosen PIN is not acceptable, or undefined when it is. */
export function pinProblem(pin: string): string | undefined {
  if (!/^\d+$/.test(pin)) return 'Enter numbers only';
  if (pin.length < 4) return 'Your PIN must be at least 4 digits';
  if (pin.length > 12) return 'Your PIN must be 12 digits or fewer';
  if (/^(\d)\1+$/.test(pin)) return 'Choose a PIN that is not the same digit repeated';
  return undefined;
}

async function derive(pin: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, [
    'deriveBits',
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    256,
  );
  return base64url(new Uint8Array(bits));
}

export async function hashPin(pin: string, iterations = PIN_ITERATIONS): Promise<PinHash> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return { salt: base64url(salt), hash: await derive(pin, salt, iterations), iterations };
}

export async function pinMatches(pin: string, stored: PinHash): Promise<boolean> {
  const salt = Uint8Array.from(atob(stored.salt.replaceAll('-', '+').replaceAll('_', '/')), (c) =>
    c.charCodeAt(0),
  );
  const hash = await derive(pin, salt, stored.iterations);
  // Constant-time comparison of the two encodings.
  let difference = hash.length ^ stored.hash.length;
  for (let i = 0; i < hash.length; i++) difference |= hash.charCodeAt(i) ^ (stored.hash.charCodeAt(i) || 0);
  return difference === 0;
}
