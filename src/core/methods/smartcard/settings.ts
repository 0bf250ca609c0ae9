/** How a checked certificate finds its account, tried in the order given. */
export type CertificateMapping = 'bound' | 'email' | 'upn';

export interface SmartcardSettings {
  mapping: CertificateMapping[];
  /** How long the browser has to carry a checked card from the certificate endpoint to the portal. */
  ticketSeconds: number;
}

export const defaultSmartcardSettings: SmartcardSettings = {
  mapping: ['bound', 'email', 'upn'],
  ticketSeconds: 120,
};

/**
 * The session factors a card proves (RFC 8176 amr values): `sc` smartcard, `hwk` a hardware key,
 * `mfa` because the card is something you have and its PIN something you know.
 */
export const SMARTCARD_FACTORS = ['sc', 'hwk', 'mfa'];
