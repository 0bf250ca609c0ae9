/**
 * The one form a password is hashed and judged in: Unicode NFC. "é" typed as one code point
 * (U+00E9) or as "e" and a combining accent (U+0065 U+0301) is the same password, whichever the
 * keyboard, the operating system or the import file produced.
 */
export const normalisedPassword = (password: string): string => password.normalize('NFC');

/**
 * The forms a typed password is tried in against a stored hash: NFC first (every hash made since
 * passwords are normalised), then the characters exactly as typed and their NFD form, for hashes
 * made before then from unnormalised input. All are canonically equivalent to what was typed, so
 * no other password is accepted; an ASCII password has one form and costs one verification.
 */
export function passwordForms(password: string): string[] {
  return [...new Set([normalisedPassword(password), password, password.normalize('NFD')])];
}
