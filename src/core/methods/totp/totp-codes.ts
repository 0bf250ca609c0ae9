import { Secret, TOTP } from 'otpauth';
import type { Random } from '../../clock.ts';

/** RFC 6238 as every common authenticator app does it: HMAC-SHA-1, 6 digits, 30-second steps. */
export const TOTP_PARAMETERS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;

export function newTotpSecret(random: Random): string {
  return new Secret({ buffer: new Uint8Array(random.bytes(20)).buffer }).base32;
}

function totp(secretBase32: string, issuer = '', label = ''): TOTP {
  return new TOTP({ ...TOTP_PARAMETERS, secret: Secret.fromBase32(secretBase32), issuer, label });
}

/**
 * The time step of `code` when it is valid within one step either side of `now`, else null.
 * Callers must still refuse a step already used (replay).
 */
export function matchingStep(secretBase32: string, code: string, now: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totp(secretBase32).validate({ token: code, timestamp: now.getTime(), window: 1 });
  if (delta === null) return null;
  return Math.floor(now.getTime() / 1000 / TOTP_PARAMETERS.period) + delta;
}

export function codeAt(secretBase32: string, at: Date): string {
  return totp(secretBase32).generate({ timestamp: at.getTime() });
}

/** The otpauth:// URI that standard authenticator apps scan. */
export function provisioningUri(secretBase32: string, issuer: string, account: string): string {
  return totp(secretBase32, issuer, account).toString();
}
