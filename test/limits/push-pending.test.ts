import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type Core, createCore, defaultCoreSettings, type Session } from '../../src/core/index.ts';
import type { Account } from '../../src/core/model.ts';
import type { Store } from '../../src/core/store.ts';
import { ENGINES, postgresUnavailable, type TestDatabase, testDatabase } from '../helpers/engines.ts';
import { addUser, openTestSession, TEST_SECRETS } from '../helpers/portal.ts';
import { attacker, BURST, outcomes, tally } from './burst.ts';

const { maxPending } = defaultCoreSettings.push;

/**
 * Push bombing: sign-ins started at once (on SQLite by one instance, on PostgreSQL by two
 * instances on one database) leave exactly `maxPending` requests waiting on the phone.
 */
for (const engine of ENGINES) {
  const instanceCount = engine === 'postgres' ? 2 : 1;
  describe(`the push pending limit under a burst on ${engine} (${instanceCount} instance(s))`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let database: TestDatabase | undefined;
    const stores: Store[] = [];
    const instances: Core[] = [];
    let account: Account;

    before(async () => {
      if (skip) return;
      database = testDatabase(engine);
      for (let i = 0; i < instanceCount; i++) {
        const store = await database.open();
        stores.push(store);
        instances.push(createCore({ store, secrets: TEST_SECRETS, settings: defaultCoreSettings }));
      }
      const core = instances[0]!;
      account = await addUser(core, 'bombed@example.org');
      // The phone as activation leaves it: an active authenticator app (no Web Push subscription).
      await stores[0]!.methods.insert({
        id: randomUUID(),
        accountId: account.id,
        kind: 'authenticator_app',
        label: 'Pixel 8',
        status: 'active',
        isDefault: true,
        createdAt: new Date(),
        lastUsedAt: null,
        data: {},
      });
    });
    after(async () => {
      if (skip) return;
      for (const store of stores) await store.close();
      await database?.drop();
    });

    test(`of ${BURST} sign-ins started at once, exactly maxPending raise a request`, {
      skip: skip ?? false,
    }, async () => {
      // One PC session per sign-in (a session's own pending request would be reused).
      const sessions: Session[] = [];
      for (let i = 0; i < BURST; i++) {
        const core = instances[i % instanceCount]!;
        const token = await openTestSession(stores[0]!, account, 'verify_mfa');
        sessions.push((await core.sessions.resume(token, attacker(i)))?.session ?? assert.fail('no session'));
      }
      const codes = await outcomes(
        sessions.map((session, i) =>
          instances[i % instanceCount]!.authenticatorApp.signInRequest(
            account,
            session,
            attacker(i),
            'Portal',
          ),
        ),
      );

      const pending = await stores[0]!.pushRequests.pendingForAccount(account.id, new Date());
      assert.equal(pending.length, maxPending, JSON.stringify(tally(codes)));
      assert.deepEqual(tally(codes), { ok: maxPending, too_many_attempts: BURST - maxPending });
      const sent = await instances[0]!.audit.list({ email: account.email, limit: 10_000 });
      assert.equal(sent.filter((e) => e.type === 'push.sent').length, maxPending);
    });
  });
}
