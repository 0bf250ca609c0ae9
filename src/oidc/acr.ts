import { isPhishingResistant } from '../core/methods/passkey/factors.ts';

/** Authentication context class references Gatehouse states in ID tokens. */
export const ACR_PASSWORD = 'urn:gatehouse:acr:password';
export const ACR_MFA = 'urn:gatehouse:acr:mfa';
/**
 * A phishing-resistant sign-in (a passkey or a smartcard), as OpenID's EAP ACR Values 1.0 names
 * it. Stated when the request asks for it or the application requires it; otherwise such a
 * sign-in is stated as MFA, which it also is, so that applications asking for MFA see what they
 * asked for.
 */
export const ACR_PHISHING_RESISTANT = 'phr';

const asked = (acrValues: unknown, value: string) =>
  typeof acrValues === 'string' && acrValues.split(' ').includes(value);

/** The acr a session's factors (RFC 8176 amr values, and the portal's markers) earn. */
export function acrFor(factors: readonly string[], phishingResistantWanted = false): string {
  if (phishingResistantWanted && isPhishingResistant(factors)) return ACR_PHISHING_RESISTANT;
  return factors.includes('mfa') ? ACR_MFA : ACR_PASSWORD;
}

/** True when the request, or the application itself, demands MFA. */
export function mfaDemanded(acrValues: unknown, applicationRequiresMfa: boolean): boolean {
  return applicationRequiresMfa || asked(acrValues, ACR_MFA);
}

/**
 * True when the application itself, or the request, demands a passkey or a smartcard. acr_values
 * lists the values acceptable to the application, in its order of preference: `phr` alone is a
 * demand; `phr` with MFA (or the password) is a preference, which MFA also satisfies.
 */
export function phishingResistantDemanded(acrValues: unknown, applicationRequires: boolean): boolean {
  return (
    applicationRequires ||
    (asked(acrValues, ACR_PHISHING_RESISTANT) &&
      !asked(acrValues, ACR_MFA) &&
      !asked(acrValues, ACR_PASSWORD))
  );
}

/** Whether the request names `phr` at all: a phishing-resistant sign-in is then stated as such. */
export const phishingResistantAsked = (acrValues: unknown) => asked(acrValues, ACR_PHISHING_RESISTANT);

/** Whether an acr the provider's session holds satisfies a demand for MFA. */
export const isMfaAcr = (acr: unknown) => acr === ACR_MFA || acr === ACR_PHISHING_RESISTANT;
