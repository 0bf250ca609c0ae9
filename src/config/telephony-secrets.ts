/** Secrets of the telephony providers that may come from the environment rather than the file. */
export const TELEPHONY_SECRET_VARIABLES = [
  'GATEHOUSE_TWILIO_AUTH_TOKEN',
  'GATEHOUSE_SMPP_PASSWORD',
  'GATEHOUSE_SIP_PASSWORD',
] as const;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The `telephony` setting with the secrets from the environment put into the providers that use
 * them (the environment wins, as for every setting). A secret that no configured provider uses is
 * a problem, like any unknown GATEHOUSE_ variable: it is probably meant for a setting misspelt.
 */
export function withTelephonySecrets(
  telephony: unknown,
  env: NodeJS.ProcessEnv,
  problems: string[],
): unknown {
  const secrets = [
    { variable: 'GATEHOUSE_TWILIO_AUTH_TOKEN', provider: 'twilio', field: 'authToken' },
    { variable: 'GATEHOUSE_SMPP_PASSWORD', provider: 'smpp', field: 'password' },
    { variable: 'GATEHOUSE_SIP_PASSWORD', provider: 'sip', field: 'password' },
  ] as const;
  const result: Record<string, unknown> = isObject(telephony) ? { ...telephony } : {};
  for (const { variable, provider, field } of secrets) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    let used = false;
    for (const key of ['voice', 'text']) {
      const block = result[key];
      if (!isObject(block) || block.provider !== provider) continue;
      result[key] = { ...block, [field]: value };
      used = true;
    }
    if (!used) problems.push(`${variable} is set, but telephony has no ${provider} provider that uses it`);
  }
  return telephony === undefined && Object.keys(result).length === 0 ? undefined : result;
}
