import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { defaultCoreSettings } from '../../src/core/index.ts';
import { startLdapGateway } from '../../src/gateways/ldap/server.ts';
import { ACCESS_REJECT } from '../../src/gateways/radius/packet.ts';
import { startRadiusGateway } from '../../src/gateways/radius/server.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import { eventually } from '../helpers/eventually.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { countingHasher, ldapBind, radiusRequests, run } from './legacy-clients.ts';

const BASE = 'ou=people,dc=example,dc=org';
const SECRET = 'testing123-shared-secret';
const PUSH_SECRET = 'vpn-shared-secret-for-push';
const BURST = 200;
const INVALID_CREDENTIALS = 49;
const { maxFailures } = defaultCoreSettings.accountLockout;
/** All requests come from 127.0.0.1: the client's limit is raised so that the account's decides. */
const clientLockout = { maxFailures: 100_000, windowMinutes: 15, lockMinutes: 15 };

const wrongKeys = (n: number) =>
  Array.from({ length: n }, (_, i) => `abcd-efgh-jkmn-${'pqrstuvwxyz23456789'[i % 19]!.repeat(4)}`);

for (const engine of ENGINES) {
  describe(`${BURST} legacy sign-ins at once for one account (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    const hasher = countingHasher();
    let portal: TestPortal;
    let ldapPort = 0;
    let radiusPort = 0;
    let pushPort = 0;
    let closeGateways: () => Promise<void>;

    /** An MFA-enabled account with one app password. */
    async function mailUser(email: string) {
      const account = await addUser(portal.core, email);
      await portal.core.enrolment.enable(account, '127.0.0.1');
      return (await portal.core.appPasswords.create(account, 'Mail on the laptop', '127.0.0.1')).keyPassword;
    }
    const rejected = async (email: string) =>
      (await portal.core.audit.list({ email, limit: 1000 })).filter((e) => e.type === 'app_password.rejected')
        .length;

    before(async () => {
      if (skip) return;
      portal = await startTestPortal({ engine, hasher, settings: { clientLockout } });
      const log = pino({ level: 'silent' });
      const ldap = await startLdapGateway(
        portal.core,
        { host: '127.0.0.1', port: 0, baseDn: BASE, allowPlain: false },
        log,
      );
      const client = (secret: string, mode: 'app-password' | 'password-and-push') => ({
        address: '127.0.0.1',
        secret,
        name: 'VPN',
        mode,
        requireMessageAuthenticator: true,
      });
      const radius = await startRadiusGateway(
        portal.core,
        { host: '127.0.0.1', port: 0, clients: [client(SECRET, 'app-password')] },
        log,
      );
      const push = await startRadiusGateway(
        portal.core,
        { host: '127.0.0.1', port: 0, clients: [client(PUSH_SECRET, 'password-and-push')] },
        log,
      );
      ldapPort = ldap.port;
      radiusPort = radius.port;
      pushPort = push.port;
      closeGateways = async () => {
        await ldap.close();
        await radius.close();
        await push.close();
      };
    });
    after(async () => {
      if (skip) return;
      await closeGateways();
      await portal.close();
    });

    test('LDAP: of 200 wrong binds sent at once, maxFailures are checked; the right one is then refused', {
      skip: skip ?? false,
    }, async () => {
      const email = `ldap.burst.${engine}@example.org`;
      const dn = `uid=${email},${BASE}`;
      const key = await mailUser(email);
      const before = hasher.verifications;
      const burst = Promise.all(wrongKeys(BURST).map((wrong) => ldapBind(ldapPort, dn, wrong)));
      // The right app password, sent while the burst is being answered, once the limit is taken.
      await eventually('the limit taken', () => hasher.verifications - before >= maxFailures);
      const rightDuringBurst = await ldapBind(ldapPort, dn, key);
      const results = await burst;
      assert.deepEqual(new Set(results), new Set([INVALID_CREDENTIALS]));
      assert.equal(rightDuringBurst, INVALID_CREDENTIALS);
      assert.equal(hasher.verifications - before, maxFailures, 'hashes verified');
      assert.equal(await rejected(email), maxFailures, 'attempts evaluated (audited)');
      // Right after, with Debian's client: still locked, and not evaluated.
      const whoami = await run('ldapwhoami', [
        '-x',
        '-H',
        `ldap://127.0.0.1:${ldapPort}`,
        '-D',
        dn,
        '-w',
        key,
      ]);
      assert.equal(whoami.code, INVALID_CREDENTIALS, whoami.out);
      assert.match(whoami.out, /too many failed attempts/);
      assert.equal(hasher.verifications - before, maxFailures);
    });

    test('RADIUS: of 200 wrong Access-Requests sent at once, maxFailures are checked; the right one is then refused', {
      skip: skip ?? false,
    }, async () => {
      const email = `radius.burst.${engine}@example.org`;
      const key = await mailUser(email);
      const before = hasher.verifications;
      const burst = radiusRequests(
        radiusPort,
        SECRET,
        wrongKeys(BURST).map((password) => ({ userName: email, password })),
      );
      await eventually('the limit taken', () => hasher.verifications - before >= maxFailures);
      const [rightDuringBurst] = await radiusRequests(radiusPort, SECRET, [
        { userName: email, password: key },
      ]);
      const codes = await burst;
      assert.deepEqual(new Set(codes), new Set([ACCESS_REJECT]));
      assert.equal(rightDuringBurst, ACCESS_REJECT);
      assert.equal(hasher.verifications - before, maxFailures, 'hashes verified');
      assert.equal(await rejected(email), maxFailures, 'attempts evaluated (audited)');
      const radtest = await run('radtest', [email, key, `127.0.0.1:${radiusPort}`, '0', SECRET]);
      assert.match(radtest.out, /Received Access-Reject/, radtest.out);
      assert.match(radtest.out, /Too many failed attempts/);
      assert.equal(hasher.verifications - before, maxFailures);
    });

    test('RADIUS password-and-push: of 200 wrong passwords at once, maxFailures are checked; the right one is then refused', {
      skip: skip ?? false,
    }, async () => {
      const email = `push.burst.${engine}@example.org`;
      await addUser(portal.core, email);
      const before = hasher.verifications;
      const codes = await radiusRequests(
        pushPort,
        PUSH_SECRET,
        wrongKeys(BURST).map((password) => ({ userName: email, password })),
      );
      assert.deepEqual(new Set(codes), new Set([ACCESS_REJECT]));
      assert.equal(hasher.verifications - before, maxFailures, 'hashes verified');
      const failed = (await portal.core.audit.list({ email, limit: 1000 })).filter(
        (e) => e.type === 'signin.failed',
      );
      assert.equal(failed.length, maxFailures, 'attempts evaluated (audited)');
      // The right password right after: refused before it is checked, so no approval is asked.
      const [right] = await radiusRequests(pushPort, PUSH_SECRET, [
        { userName: email, password: TEST_PASSWORD },
      ]);
      assert.equal(right, ACCESS_REJECT);
      assert.equal(hasher.verifications - before, maxFailures, 'the right password was not checked');
    });
  });
}
