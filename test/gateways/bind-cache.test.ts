import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isGatehouseError } from '../../src/core/errors.ts';
import { manualClock } from '../helpers/clock.ts';
import { postgresUnavailable, testDatabase } from '../helpers/engines.ts';
import { addUser, startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { countingHasher } from './legacy-clients.ts';

/**
 * The optional cache of successful legacy binds (legacyBindCacheSeconds): a mail server binding
 * again with the same app password within the window costs no hash; anything else (another key,
 * after the window, after revocation, with the cache off) is verified as before. Counted, not timed.
 */
for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`legacy bind cache (${engine})`, {
    skip: (engine === 'postgres' ? await postgresUnavailable() : null) ?? false,
  }, () => {
    const hasher = countingHasher();
    const clock = manualClock();
    const database = testDatabase(engine);
    let portal: TestPortal;
    let off: TestPortal;

    before(async () => {
      portal = await startTestPortal({ database, hasher, clock, settings: { legacyBindCacheSeconds: 30 } });
      off = await startTestPortal({ engine, hasher, clock });
    });
    after(async () => {
      await portal.close();
      await off.close();
      await database.drop();
    });

    async function bind(on: TestPortal, email: string, password: string) {
      const before = hasher.verifications;
      const outcome = await on.core
        .legacySignIn({ email, password, protocol: 'ldap', clientAddress: '127.0.0.1' })
        .then(
          () => 'accepted',
          (error: unknown) => (isGatehouseError(error) ? error.code : Promise.reject(error)),
        );
      return { outcome, verified: hasher.verifications - before };
    }

    async function withAppPasswords(on: TestPortal, email: string, count: number) {
      const account = await addUser(on.core, email);
      await on.core.enrolment.enable(account, '127.0.0.1');
      const keys: { id: string; key: string }[] = [];
      for (let i = 0; i < count; i++) {
        const { appPassword, keyPassword } = await on.core.appPasswords.create(
          account,
          `Mail client ${i}`,
          '127.0.0.1',
        );
        keys.push({ id: appPassword.id, key: keyPassword });
      }
      return { account, keys };
    }

    test('a repeat within the window verifies no hash; after it, one again', async () => {
      const { keys } = await withAppPasswords(portal, 'imap.user@example.org', 2);
      const [first, second] = keys;
      assert.ok(first && second);
      assert.deepEqual(await bind(portal, 'imap.user@example.org', first.key), {
        outcome: 'accepted',
        verified: 1,
      });
      for (let i = 0; i < 5; i++) {
        assert.deepEqual(await bind(portal, 'imap.user@example.org', first.key), {
          outcome: 'accepted',
          verified: 0,
        });
      }
      // The other app password of the account was never bound: it is verified.
      assert.deepEqual(await bind(portal, 'imap.user@example.org', second.key), {
        outcome: 'accepted',
        verified: 1,
      });
      clock.advanceMinutes(1);
      assert.deepEqual(await bind(portal, 'imap.user@example.org', first.key), {
        outcome: 'accepted',
        verified: 1,
      });
    });

    test('a wrong key or the account password is never answered from the cache', async () => {
      const { keys } = await withAppPasswords(portal, 'wrong.key@example.org', 1);
      const key = keys[0]!.key;
      assert.equal((await bind(portal, 'wrong.key@example.org', key)).verified, 1);
      const altered = `${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}`;
      assert.deepEqual(await bind(portal, 'wrong.key@example.org', altered), {
        outcome: 'invalid_credentials',
        verified: 1,
      });
      assert.deepEqual(await bind(portal, 'wrong.key@example.org', 'Blue-Harbour-42'), {
        outcome: 'invalid_credentials',
        verified: 1,
      });
      // Someone else naming this account with its key: the key is this account's, so only the
      // address decides, and another address is not a match.
      assert.deepEqual(await bind(portal, 'nobody@example.org', key), {
        outcome: 'invalid_credentials',
        verified: 1,
      });
    });

    test('a revoked app password is refused at once, cached or not', async () => {
      const { account, keys } = await withAppPasswords(portal, 'revoked@example.org', 1);
      const { id, key } = keys[0]!;
      assert.deepEqual(await bind(portal, 'revoked@example.org', key), { outcome: 'accepted', verified: 1 });
      assert.deepEqual(await bind(portal, 'revoked@example.org', key), { outcome: 'accepted', verified: 0 });
      await portal.core.appPasswords.revoke(account, id, 'test', '127.0.0.1');
      assert.equal((await bind(portal, 'revoked@example.org', key)).outcome, 'invalid_credentials');
    });

    test('revoked on another instance (same database): refused here at once', async () => {
      const other = await startTestPortal({
        engine,
        hasher,
        clock,
        database,
        settings: { legacyBindCacheSeconds: 30 },
      });
      try {
        const { account, keys } = await withAppPasswords(portal, 'two.instances@example.org', 1);
        const { id, key } = keys[0]!;
        await bind(portal, 'two.instances@example.org', key);
        assert.equal((await bind(portal, 'two.instances@example.org', key)).verified, 0);
        await other.core.appPasswords.revoke(account, id, 'test', '127.0.0.1');
        assert.equal((await bind(portal, 'two.instances@example.org', key)).outcome, 'invalid_credentials');
      } finally {
        await other.close();
      }
    });

    test('off by default: every bind verifies one hash', async () => {
      const { keys } = await withAppPasswords(off, 'no.cache@example.org', 1);
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await bind(off, 'no.cache@example.org', keys[0]!.key), {
          outcome: 'accepted',
          verified: 1,
        });
      }
    });
  });
}
