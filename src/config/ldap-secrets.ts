/** The LDAP service account's password: from the environment only, never the file. */
export const LDAP_SERVICE_PASSWORD = 'GATEHOUSE_LDAP_SERVICE_PASSWORD';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The `ldap` setting with the service account's password from the environment put in. */
export function withLdapServicePassword(ldap: unknown, env: NodeJS.ProcessEnv, problems: string[]): unknown {
  const password = env[LDAP_SERVICE_PASSWORD];
  const serviceAccount = isObject(ldap) ? ldap.serviceAccount : undefined;
  if (!isObject(serviceAccount)) {
    if (password) problems.push(`${LDAP_SERVICE_PASSWORD} is set, but ldap has no serviceAccount`);
    return ldap;
  }
  if ('password' in serviceAccount) {
    problems.push(
      `ldap.serviceAccount.password: put the password in ${LDAP_SERVICE_PASSWORD}, not in the file`,
    );
    return ldap;
  }
  if (!password) {
    problems.push(`ldap.serviceAccount needs its password in ${LDAP_SERVICE_PASSWORD}`);
    return ldap;
  }
  return { ...(ldap as Record<string, unknown>), serviceAccount: { ...serviceAccount, password } };
}
