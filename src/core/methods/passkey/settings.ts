/** What an operator sets for passkeys (config `passkeys`). */
export interface PasskeySettings {
  /** The name browsers show when creating a passkey. */
  rpName: string;
  /**
   * Authenticator models (AAGUIDs) allowed; empty: any. When set, attestation is asked for so the
   * model is known; otherwise attestation is `none` (no model information is collected).
   */
  allowedAaguids: string[];
  /** How long the browser has to answer a challenge. */
  challengeSeconds: number;
  /** Groups whose members must sign in with a phishing-resistant method: a passkey or a smartcard. */
  requirePhishingResistant: { groups: string[] };
}

export const defaultPasskeySettings: PasskeySettings = {
  rpName: 'Gatehouse',
  allowedAaguids: [],
  challengeSeconds: 300,
  requirePhishingResistant: { groups: [] },
};
