/** Authentication context class references Gatehouse states in ID tokens. */
export const ACR_PASSWORD = 'urn:gatehouse:acr:password';
export const ACR_MFA = 'urn:gatehouse:acr:mfa';

/** The acr a session's factors (RFC 8176 amr values) earn. */
export function acrFor(factors: readonly string[]): string {
  return factors.includes('mfa') ? ACR_MFA : ACR_PASSWORD;
}

/** True when the request, or the application itself, demands MFA. */
export function mfaDemanded(acrValues: unknown, applicationRequiresMfa: boolean): boolean {
  return applicationRequiresMfa || (typeof acrValues === 'string' && acrValues.split(' ').includes(ACR_MFA));
}
