import type { Migration, MigrationProvider } from 'kysely';
import type { Engine } from '../engine.ts';
import { foundation } from './0001-foundation.ts';
import { authenticator } from './0002-authenticator.ts';
import { appPasswords } from './0003-app-passwords.ts';
import { singleSignOn } from './0004-single-sign-on.ts';
import { phone } from './0006-phone.ts';
import { smartcard } from './0007-smartcard.ts';
import { appPasswordFingerprints } from './0008-app-password-fingerprints.ts';
import { signInFlow } from './0009-sign-in-flow.ts';
import { applicationLaunchUrl } from './0012-application-launch-url.ts';
import { operatorConsole } from './0013-operator-console.ts';
import { ownAccount } from './0014-own-account.ts';
import { passkeys } from './0015-passkeys.ts';
import { consoleData } from './0016-console-data.ts';
import { applicationConsole } from './0017-application-console.ts';
import { phishingResistantApplications } from './0018-phishing-resistant-applications.ts';

/**
 * One list of migrations for both engines; each receives the engine for its few differences. A new
 * migration's number must sort after every released one (kysely refuses to apply one numbered
 * below a migration a database already has), so the gaps (0005, 0010, 0011) stay empty.
 */
const migrations: Record<string, (engine: Engine) => Migration> = {
  '0001-foundation': foundation,
  '0002-authenticator': authenticator,
  '0003-app-passwords': appPasswords,
  '0004-single-sign-on': singleSignOn,
  '0006-phone': phone,
  // 0005 was once reserved for certificates; they came after 0006, so they are 0007.
  '0007-smartcard': smartcard,
  '0008-app-password-fingerprints': appPasswordFingerprints,
  '0009-sign-in-flow': signInFlow,
  '0012-application-launch-url': applicationLaunchUrl,
  '0013-operator-console': operatorConsole,
  '0014-own-account': ownAccount,
  '0015-passkeys': passkeys,
  '0016-console-data': consoleData,
  '0017-application-console': applicationConsole,
  '0018-phishing-resistant-applications': phishingResistantApplications,
};

export function migrationProvider(engine: Engine): MigrationProvider {
  return {
    async getMigrations() {
      return Object.fromEntries(Object.entries(migrations).map(([name, make]) => [name, make(engine)]));
    },
  };
}
