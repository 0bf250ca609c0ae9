import { createHash } from 'node:crypto';
import type { Random } from '../../clock.ts';

/** No 0/O, 1/I/L: a code typed from a screen should not be misread. */
export const ACTIVATION_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const ACTIVATION_LENGTH = 20;

/** 20 characters of a 31-letter alphabet: about 99 bits, from unbiased random bytes. */
export function newActivationCode(random: Random): string {
  let code = '';
  while (code.length < ACTIVATION_LENGTH) {
    for (const byte of random.bytes(32)) {
      // 248 = 8 * 31: bytes above it are dropped so that every letter is equally likely.
      if (byte < 248 && code.length < ACTIVATION_LENGTH) code += ACTIVATION_ALPHABET[byte % 31];
    }
  }
  return code;
}

/** What people see and may type: groups of four. */
export function formatActivationCode(code: string): string {
  return code.match(/.{1,4}/g)?.join('-') ?? code;
}

/** Accepts the code with or without dashes and spaces, in either case; null when it cannot be one. */
export function normaliseActivationCode(typed: string): string | null {
  const code = typed.replace(/[\s-]/g, '').toUpperCase();
  if (code.length !== ACTIVATION_LENGTH) return null;
  for (const ch of code) if (!ACTIVATION_ALPHABET.includes(ch)) return null;
  return code;
}

export function hashActivationCode(code: string): string {
  return createHash('sha256').update(code).digest('base64url');
}
