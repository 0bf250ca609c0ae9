import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Core, createCore, defaultCoreSettings } from '../../src/core/index.ts';
import type { Store } from '../../src/core/store.ts';
import { ENGINES, postgresUnavailable, type TestDatabase, testDatabase } from '../helpers/engines.ts';
import { addUser, TEST_PASSWORD, TEST_SECRETS } from '../helpers/portal.ts';
import { attacker, BURST, countingHasher, outcomes, tally } from './burst.ts';

const { accountLockout, clientLockout } = defaultCoreSettings;

/** A burst of password guesses sent at once is checked no more often than the lockouts allow. */
for (const engine of ENGINES) {
  describe(`password sign-in under a burst on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    const hasher = countingHasher();
    let database: TestDatabase | undefined;
    let store: Store | undefined;
    let core: Core;

    before(async () => {
      if (skip) return;
      database = testDatabase(engine);
      store = await database.open();
      core = createCore({ store, secrets: TEST_SECRETS, hasher, settings: defaultCoreSettings });
    });
    after(async () => {
      if (skip) return;
      // Even when opening failed: a half-migrated schema left behind would confuse later runs.
      await store?.close();
      await database?.drop();
    });

    test(`of ${BURST} wrong passwords at once for one address, only the account lockout's are checked`, {
      skip: skip ?? false,
    }, async () => {
      const email = 'burst@example.org';
      await addUser(core, email);
      hasher.verified = 0;
      // Each guess from its own address (a botnet), so only the account's lockout stands in the
      // way; the right password comes last in the same burst.
      const guesses = Array.from({ length: BURST }, (_, i) =>
        core.flow.signIn({ email, password: `wrong-${i}`, clientAddress: attacker(i) }),
      );
      const right = core.flow.signIn({ email, password: TEST_PASSWORD, clientAddress: '192.0.2.200' });
      const codes = await outcomes([...guesses, right]);

      assert.equal(hasher.verified, accountLockout.maxFailures, JSON.stringify(tally(codes)));
      assert.equal(codes.at(-1), 'account_locked', 'the right password in the burst is refused');
      assert.ok(
        codes.slice(0, -1).every((code) => code === 'invalid_credentials' || code === 'account_locked'),
        JSON.stringify(tally(codes)),
      );
      await assert.rejects(
        core.flow.signIn({ email, password: TEST_PASSWORD, clientAddress: '192.0.2.201' }),
        (e: { code: string }) => e.code === 'account_locked',
        'the right password sent afterwards is refused',
      );
      assert.equal(hasher.verified, accountLockout.maxFailures, 'and not checked');
    });

    test(`of ${BURST} wrong passwords at once for as many addresses from one client, only the client lockout's are checked`, {
      skip: skip ?? false,
    }, async () => {
      const email = 'sprayed@example.org';
      await addUser(core, email);
      hasher.verified = 0;
      const client = '203.0.113.77';
      const codes = await outcomes(
        Array.from({ length: BURST }, (_, i) =>
          core.flow.signIn({
            email: `spray${i}@example.org`,
            password: 'Summer2026!',
            clientAddress: client,
          }),
        ),
      );

      assert.equal(hasher.verified, clientLockout.maxFailures, JSON.stringify(tally(codes)));
      assert.deepEqual(tally(codes), {
        invalid_credentials: clientLockout.maxFailures,
        client_throttled: BURST - clientLockout.maxFailures,
      });
      await assert.rejects(
        core.flow.signIn({ email, password: TEST_PASSWORD, clientAddress: client }),
        (e: { code: string }) => e.code === 'client_throttled',
        'the client stays throttled, even for a right password',
      );
      const elsewhere = await core.flow.signIn({
        email,
        password: TEST_PASSWORD,
        clientAddress: '192.0.2.202',
      });
      assert.equal(elsewhere.account.email, email, 'from another client the account signs in');
      assert.equal(hasher.verified, clientLockout.maxFailures + 1);
    });
  });
}
