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

/** Wrong PINs so far, kept with the PIN so that reopening the app does not reset them. */
export interface PinAttempts {
  failures: number;
  lockedUntil: number;
}

export const FREE_PIN_ATTEMPTS = 5;

/** After 5 wrong PINs, each further one waits longer: 1, 2, 4 … at most 60 minutes. */
export function afterWrongPin(previous: PinAttempts | undefined, now: number): PinAttempts {
  const failures = (previous?.failures ?? 0) + 1;
  if (failures < FREE_PIN_ATTEMPTS) return { failures, lockedUntil: 0 };
  const minutes = Math.min(60, 2 ** (failures - FREE_PIN_ATTEMPTS));
  return { failures, lockedUntil: now + minutes * 60_000 };
}

/** Seconds to wait before the next PIN may be tried (0: now). */
export function pinWaitSeconds(attempts: PinAttempts | undefined, now: number): number {
  return Math.max(0, Math.ceil(((attempts?.lockedUntil ?? 0) - now) / 1000));
}
