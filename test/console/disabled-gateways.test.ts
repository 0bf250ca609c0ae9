import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { CLI_ACTOR } from '../../src/core/console/actor.ts';
import { startLdapGateway } from '../../src/gateways/ldap/server.ts';
import { startRadiusGateway } from '../../src/gateways/radius/server.ts';
import { ldapBind, radiusRequests } from '../gateways/legacy-clients.ts';
import { addUser, startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { selfSignedCertificate } from '../helpers/tls.ts';

const BASE = 'ou=people,dc=example,dc=org';
const SECRET = 'testing123-shared-secret';
const LDAP_SUCCESS = 0;
const LDAP_INVALID_CREDENTIALS = 49;
const ACCEPT = 2;
const REJECT = 3;

/** A disabled account's app password stops working on the LDAP and RADIUS gateways at once. */
describe('a disabled account on the legacy gateways', () => {
  let portal: TestPortal;
  let ldap: Awaited<ReturnType<typeof startLdapGateway>>;
  let radius: Awaited<ReturnType<typeof startRadiusGateway>>;
  const email = 'legacy.user@example.org';
  let key = '';

  before(async () => {
    portal = await startTestPortal();
    const account = await addUser(portal.core, email);
    await portal.core.enrolment.enable(account, '127.0.0.1');
    key = (await portal.core.appPasswords.create(account, 'Mail on the laptop', '127.0.0.1')).keyPassword;
    const log = pino({ level: 'silent' });
    ldap = await startLdapGateway(
      portal.core,
      {
        host: '127.0.0.1',
        port: 0,
        tlsPort: 0,
        baseDn: BASE,
        tls: selfSignedCertificate(),
        allowPlain: true,
      },
      log,
    );
    radius = await startRadiusGateway(
      portal.core,
      {
        host: '127.0.0.1',
        port: 0,
        clients: [
          {
            address: '127.0.0.0/8',
            secret: SECRET,
            name: 'VPN',
            mode: 'app-password',
            requireMessageAuthenticator: true,
          },
        ],
      },
      log,
    );
  });
  after(async () => {
    await ldap?.close();
    await radius?.close();
    await portal?.close();
  });

  test('works before, is refused once disabled, works again once re-enabled', async () => {
    const dn = `uid=${email},${BASE}`;
    const both = async () => [
      await ldapBind(ldap.port, dn, key),
      (await radiusRequests(radius.port, SECRET, [{ userName: email, password: key }]))[0],
    ];
    assert.deepEqual(await both(), [LDAP_SUCCESS, ACCEPT]);
    await portal.core.console.setDisabled(CLI_ACTOR, email, true, 'left the organisation');
    assert.deepEqual(await both(), [LDAP_INVALID_CREDENTIALS, REJECT]);
    await portal.core.console.setDisabled(CLI_ACTOR, email, false, 'returned');
    assert.deepEqual(await both(), [LDAP_SUCCESS, ACCEPT]);
  });
});
