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
  /**
   * Who must sign in with a phishing-resistant method (a passkey or a smartcard): members of
   * `groups` everywhere, and everyone using the operator console if `console`.
   */
  requirePhishingResistant: { groups: string[]; console: boolean };
}

export const defaultPasskeySettings: PasskeySettings = {
  rpName: 'Gatehouse',
  allowedAaguids: [],
  challengeSeconds: 300,
  requirePhishingResistant: { groups: [], console: false },
};

/** Whether an operator requires this account (by one of its groups) to use a passkey or smartcard. */
export const groupRequiresPhishingResistant = (settings: PasskeySettings, account: { groups: string[] }) =>
  account.groups.some((g) => settings.requirePhishingResistant.groups.includes(g));
