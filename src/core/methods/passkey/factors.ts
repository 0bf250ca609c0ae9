/**
 * What a passkey proves (RFC 8176 amr values): `hwk` a key in a security key or phone (roaming),
 * `swk` a key held by the device's platform authenticator, and `user` because user verification
 * (PIN or biometric) is required. `mfa` because both are factors at once.
 */
export type PasskeyAttachment = 'platform' | 'cross-platform';

export const passkeyFactor = (attachment: PasskeyAttachment) => (attachment === 'platform' ? 'swk' : 'hwk');

/**
 * The session marker for a phishing-resistant sign-in (a passkey: bound to the portal's origin).
 * Not an RFC 8176 value, so it is never given out as an amr.
 */
export const PHISHING_RESISTANT = 'phr';

/**
 * The session marker of a step-up that only a phishing-resistant method may answer (an
 * application or the console requires one). Not an amr either; the proof replaces it.
 */
export const PHISHING_RESISTANT_WANTED = 'phr_wanted';

/** Whether a session's factors came from a phishing-resistant method: a passkey or a smartcard. */
export function isPhishingResistant(factors: readonly string[]): boolean {
  return factors.includes(PHISHING_RESISTANT) || factors.includes('sc');
}

/** The amr values of a session's factors (markers such as the phishing-resistant flag left out). */
export function amrOf(factors: readonly string[]): string[] {
  return factors.filter((f) => f !== PHISHING_RESISTANT && f !== PHISHING_RESISTANT_WANTED);
}
