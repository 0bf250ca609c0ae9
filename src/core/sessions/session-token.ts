import { createHash } from 'node:crypto';
import type { Random } from '../clock.ts';

/** A session token is 256 random bits; only its SHA-256 is stored, so a database leak opens no session. */
export function newSessionToken(random: Random): string {
  return random.bytes(32).toString('base64url');
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
