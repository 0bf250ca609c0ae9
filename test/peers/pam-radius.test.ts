import assert from 'node:assert/strict';
import { accessSync, constants } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { startRadiusGateway } from '../../src/gateways/radius/server.ts';
import { type PamRadius, pamRadius } from '../helpers/pam-radius.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';

const SECRET = 'pam-host-shared-secret-0123456789';
/** Debian 12's pam_radius_auth 2.0.0 sends no Message-Authenticator: its host is allowed to omit it. */
const OLD_HOST = '127.0.0.2';
/** The same module on a host whose gateway client still requires one (the default). */
const STRICT_HOST = '127.0.0.3';

/** pamtester reads services from /etc/pam.d only: this test writes one there (root, as in CI). */
function pamDirectoryUnwritable(): string | false {
  try {
    accessSync('/etc/pam.d', constants.W_OK);
    return false;
  } catch {
    return process.env.CI
      ? false
      : 'pamtester needs a service file in /etc/pam.d, which this user cannot write';
  }
}

describe('pam_radius_auth (pamtester) on the RADIUS gateway', { skip: pamDirectoryUnwritable() }, () => {
  let portal: TestPortal;
  let gateway: Awaited<ReturnType<typeof startRadiusGateway>>;
  let oldHost: PamRadius;
  let strictHost: PamRadius;
  let key = '';
  const logged: { msg: string; client?: string }[] = [];
  const email = 'linux.admin@example.org';

  before(async () => {
    portal = await startTestPortal();
    const account = await addUser(portal.core, email);
    await portal.core.enrolment.enable(account, '127.0.0.1');
    key = (await portal.core.appPasswords.create(account, 'Jump host login', '127.0.0.1')).keyPassword;
    const log = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    gateway = await startRadiusGateway(
      portal.core,
      {
        host: '127.0.0.1',
        port: 0,
        clients: [
          {
            address: OLD_HOST,
            secret: SECRET,
            name: 'Old jump host',
            mode: 'app-password',
            requireMessageAuthenticator: false,
          },
          {
            address: STRICT_HOST,
            secret: SECRET,
            name: 'Jump host',
            mode: 'app-password',
            requireMessageAuthenticator: true,
          },
        ],
      },
      log,
    );
    oldHost = pamRadius({ port: gateway.port, secret: SECRET, sourceAddress: OLD_HOST, timeoutSeconds: 1 });
    strictHost = pamRadius({
      port: gateway.port,
      secret: SECRET,
      sourceAddress: STRICT_HOST,
      timeoutSeconds: 1,
    });
  });
  after(async () => {
    oldHost?.remove();
    strictHost?.remove();
    await gateway?.close();
    await portal?.close();
  });

  test('a client allowed to omit Message-Authenticator signs in with an app password, and it is logged', async () => {
    const result = await oldHost.authenticate(email, key);
    assert.equal(result.code, 0, result.out);
    assert.match(result.out, /successfully authenticated/);
    const warning = logged.find((l) => /accepted without Message-Authenticator/.test(l.msg));
    assert.equal(warning?.client, 'Old jump host', JSON.stringify(logged));
    const account = (await portal.core.accounts.find(email))!;
    const [used] = await portal.store.appPasswords.listForAccount(account.id);
    assert.equal(used?.lastUsedAddress, OLD_HOST);
  });

  test('the account password and a wrong app password are refused (MFA is on)', async () => {
    const password = await oldHost.authenticate(email, TEST_PASSWORD);
    assert.equal(password.code, 1, password.out);
    assert.match(password.out, /Authentication failure/);
    const wrong = await oldHost.authenticate(email, 'abcd-efgh-jkmn-pqrs');
    assert.match(wrong.out, /Authentication failure/);
  });

  test('a client that must send Message-Authenticator and does not gets no answer, and the log says why', async () => {
    const result = await strictHost.authenticate(email, key);
    assert.equal(result.code, 1, result.out);
    // No answer at all: pam_radius_auth gives up on the server ("cannot retrieve authentication info").
    assert.match(result.out, /cannot retrieve authentication info/);
    const dropped = logged.find((l) => /without Message-Authenticator dropped/.test(l.msg));
    assert.equal(dropped?.client, 'Jump host');
    assert.match(dropped?.msg ?? '', /requireMessageAuthenticator: false/);
  });
});
