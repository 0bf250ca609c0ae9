import { createRequire } from 'node:module';
import { GatehouseError } from '../errors.ts';
import { normalisedPassword } from './normalise.ts';

export const MIN_PASSWORD_LENGTH = 8;
/** Long enough for any passphrase; short enough that hashing it cannot be used to load the server. */
export const MAX_PASSWORD_LENGTH = 256;

const require = createRequire(import.meta.url);
let commonPasswordSet: Set<string> | undefined;

/**
 * About 49,000 of the passwords most often found in breaches (zxcvbn's list), read the first time
 * a new password is judged: a running portal that never creates or changes a password does not
 * hold them in memory.
 */
function commonPasswords(): Set<string> {
  if (!commonPasswordSet) {
    const { dictionary } = require('@zxcvbn-ts/language-common') as { dictionary: Record<string, string[]> };
    commonPasswordSet = new Set(dictionary['passwords-common']?.map((p) => p.toLowerCase()) ?? []);
  }
  return commonPasswordSet;
}

/**
 * Throws a GatehouseError when `password` may not be chosen by the account `email`. It is judged
 * in NFC, the form it is hashed in: its length is that form's characters (code points).
 */
export function checkNewPassword(typed: string, email: string): void {
  const password = normalisedPassword(typed);
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) throw new GatehouseError('password_too_short');
  if (length > MAX_PASSWORD_LENGTH) throw new GatehouseError('password_too_long');
  const lowered = password.toLowerCase();
  if (commonPasswords().has(lowered)) throw new GatehouseError('password_too_common');
  const localPart = email.split('@')[0] ?? '';
  if (lowered === email.toLowerCase() || lowered === localPart)
    throw new GatehouseError('password_matches_email');
}

export function isCommonPassword(password: string): boolean {
  return commonPasswords().has(normalisedPassword(password).toLowerCase());
}
