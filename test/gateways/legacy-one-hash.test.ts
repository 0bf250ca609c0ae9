import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { isGatehouseError } from '../../src/core/errors.ts';
import { startLdapGateway } from '../../src/gateways/ldap/server.ts';
import { startRadiusGateway } from '../../src/gateways/radius/server.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { countingHasher, run } from './legacy-clients.ts';

const BASE = 'ou=people,dc=example,dc=org';
const SECRET = 'testing123-shared-secret';
const WRONG_KEY = 'abcd-efgh-jkmn-pqrs';
/** Lockouts out of the way: this file counts hashes, legacy-burst.test.ts counts lockouts. */
const NO_LOCKOUT = { maxFailures: 100_000, windowMinutes: 15, lockMinutes: 15 };

/**
 * How long a legacy sign-in takes must tell nothing about the account, so every one verifies
 * exactly one argon2id hash, whatever the account and whatever was typed (counted, not timed).
 */
describe('every legacy sign-in verifies exactly one argon2id hash', () => {
  const hasher = countingHasher();
  let portal: TestPortal;
  let ldapPort = 0;
  let radiusPort = 0;
  let closeGateways: () => Promise<void>;
  /** The key passwords of each account, by the number of app passwords it has. */
  const keys = new Map<string, string[]>();

  async function account(email: string, appPasswords: number, mfa: boolean) {
    const created = await addUser(portal.core, email);
    if (mfa) await portal.core.enrolment.enable(created, '127.0.0.1');
    const list: string[] = [];
    for (let i = 0; i < appPasswords; i++) {
      list.push(
        (await portal.core.appPasswords.create(created, `Mail client ${i}`, '127.0.0.1')).keyPassword,
      );
    }
    keys.set(email, list);
  }

  /** The legacy sign-in's outcome and the number of hashes it verified. */
  async function signIn(email: string, password: string) {
    const before = hasher.verifications;
    const outcome = await portal.core
      .legacySignIn({ email, password, protocol: 'ldap', clientAddress: '127.0.0.1' })
      .then(
        () => 'accepted',
        (error: unknown) => (isGatehouseError(error) ? error.code : Promise.reject(error)),
      );
    return { outcome, verified: hasher.verifications - before };
  }

  before(async () => {
    portal = await startTestPortal({
      hasher,
      settings: { accountLockout: NO_LOCKOUT, clientLockout: NO_LOCKOUT },
    });
    await account('no.apps@example.org', 0, false);
    await account('no.apps.mfa@example.org', 0, true);
    await account('one@example.org', 1, true);
    await account('five@example.org', 5, true);
    await account('twenty@example.org', 20, true);
    await account('five.no.mfa@example.org', 5, false);
    const log = pino({ level: 'silent' });
    const ldap = await startLdapGateway(
      portal.core,
      { host: '127.0.0.1', port: 0, baseDn: BASE, allowPlain: false },
      log,
    );
    const radius = await startRadiusGateway(
      portal.core,
      {
        host: '127.0.0.1',
        port: 0,
        clients: [
          {
            address: '127.0.0.1',
            secret: SECRET,
            name: 'VPN',
            mode: 'app-password',
            requireMessageAuthenticator: true,
          },
        ],
      },
      log,
    );
    ldapPort = ldap.port;
    radiusPort = radius.port;
    closeGateways = async () => {
      await ldap.close();
      await radius.close();
    };
  });
  after(async () => {
    await closeGateways();
    await portal.close();
  });

  test('an unknown account: one decoy', async () => {
    assert.deepEqual(await signIn('nobody@example.org', WRONG_KEY), {
      outcome: 'invalid_credentials',
      verified: 1,
    });
    assert.deepEqual(await signIn('nobody@example.org', TEST_PASSWORD), {
      outcome: 'invalid_credentials',
      verified: 1,
    });
  });

  test('an account without app passwords, MFA off: the account password is the credential', async () => {
    assert.deepEqual(await signIn('no.apps@example.org', TEST_PASSWORD), {
      outcome: 'accepted',
      verified: 1,
    });
    assert.deepEqual(await signIn('no.apps@example.org', WRONG_KEY), {
      outcome: 'invalid_credentials',
      verified: 1,
    });
  });

  test('the account password with MFA on is refused and audited, after one hash', async () => {
    for (const email of ['no.apps.mfa@example.org', 'five@example.org', 'twenty@example.org']) {
      assert.deepEqual(
        await signIn(email, TEST_PASSWORD),
        { outcome: 'invalid_credentials', verified: 1 },
        email,
      );
      const [last] = await portal.core.audit.list({ email, limit: 1 });
      assert.equal(last?.type, 'legacy.password_refused', email);
    }
  });

  test('with 1, 5 and 20 app passwords: right (first or last) and wrong ones', async () => {
    for (const email of ['one@example.org', 'five@example.org', 'twenty@example.org']) {
      const list = keys.get(email)!;
      for (const key of [list[0]!, list.at(-1)!]) {
        assert.deepEqual(await signIn(email, key), { outcome: 'accepted', verified: 1 }, email);
      }
      // As people copy it: without dashes, in capitals.
      const compact = list[0]!.replaceAll('-', '').toUpperCase();
      assert.deepEqual(await signIn(email, compact), { outcome: 'accepted', verified: 1 }, email);
      assert.deepEqual(
        await signIn(email, WRONG_KEY),
        { outcome: 'invalid_credentials', verified: 1 },
        email,
      );
      assert.deepEqual(await signIn(email, 'not-even-key-shaped'), {
        outcome: 'invalid_credentials',
        verified: 1,
      });
    }
  });

  test('MFA off with app passwords: either credential works, each after one hash', async () => {
    const email = 'five.no.mfa@example.org';
    assert.deepEqual(await signIn(email, keys.get(email)![2]!), { outcome: 'accepted', verified: 1 });
    assert.deepEqual(await signIn(email, TEST_PASSWORD), { outcome: 'accepted', verified: 1 });
    assert.deepEqual(await signIn(email, WRONG_KEY), { outcome: 'invalid_credentials', verified: 1 });
  });

  test("another account's app password is not a candidate", async () => {
    const theirs = keys.get('twenty@example.org')![7]!;
    assert.deepEqual(await signIn('five@example.org', theirs), {
      outcome: 'invalid_credentials',
      verified: 1,
    });
    assert.deepEqual(await signIn('nobody@example.org', theirs), {
      outcome: 'invalid_credentials',
      verified: 1,
    });
  });

  test('through the real LDAP server, with ldapwhoami', async () => {
    const whoami = async (email: string, password: string) => {
      const before = hasher.verifications;
      const { code } = await run('ldapwhoami', [
        '-x',
        '-H',
        `ldap://127.0.0.1:${ldapPort}`,
        '-D',
        `uid=${email},${BASE}`,
        '-w',
        password,
      ]);
      return { code, verified: hasher.verifications - before };
    };
    assert.deepEqual(await whoami('nobody@example.org', WRONG_KEY), { code: 49, verified: 1 });
    assert.deepEqual(await whoami('five@example.org', WRONG_KEY), { code: 49, verified: 1 });
    assert.deepEqual(await whoami('twenty@example.org', TEST_PASSWORD), { code: 49, verified: 1 });
    assert.deepEqual(await whoami('twenty@example.org', keys.get('twenty@example.org')![19]!), {
      code: 0,
      verified: 1,
    });
    assert.deepEqual(await whoami('no.apps@example.org', TEST_PASSWORD), { code: 0, verified: 1 });
  });

  test('through the real RADIUS server, with radtest', async () => {
    const radtest = async (email: string, password: string) => {
      const before = hasher.verifications;
      const { out } = await run('radtest', [email, password, `127.0.0.1:${radiusPort}`, '0', SECRET]);
      return { answer: /Received (Access-\w+)/.exec(out)?.[1], verified: hasher.verifications - before };
    };
    assert.deepEqual(await radtest('nobody@example.org', WRONG_KEY), {
      answer: 'Access-Reject',
      verified: 1,
    });
    assert.deepEqual(await radtest('twenty@example.org', WRONG_KEY), {
      answer: 'Access-Reject',
      verified: 1,
    });
    assert.deepEqual(await radtest('five@example.org', TEST_PASSWORD), {
      answer: 'Access-Reject',
      verified: 1,
    });
    assert.deepEqual(await radtest('five@example.org', keys.get('five@example.org')![4]!), {
      answer: 'Access-Accept',
      verified: 1,
    });
  });
});
