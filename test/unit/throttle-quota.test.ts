import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Store } from '../../src/core/store.ts';
import { throttle } from '../../src/core/throttle/throttle.ts';
import { manualClock } from '../helpers/clock.ts';
import { ENGINES, postgresUnavailable, type TestDatabase, testDatabase } from '../helpers/engines.ts';

/** Quotas on calls and texts (toll fraud): counted atomically, and held for the whole window. */
for (const engine of ENGINES) {
  describe(`throttle quotas on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let database: TestDatabase;
    let store: Store;

    before(async () => {
      if (skip) return;
      database = testDatabase(engine);
      store = await database.open();
    });
    after(async () => {
      if (skip) return;
      await store.close();
      await database.drop();
    });

    test('allows exactly the quota to concurrent callers', { skip: skip ?? false }, async () => {
      const quota = throttle(store, manualClock(), { maxFailures: 3, windowMinutes: 60, lockMinutes: 60 });
      const answers = await Promise.all(Array.from({ length: 12 }, () => quota.consume('race')));
      assert.equal(answers.filter((until) => until === null).length, 3);
    });

    test('a daily quota stays spent after its lock ends, until the day is over', {
      skip: skip ?? false,
    }, async () => {
      const clock = manualClock('2026-06-01T09:00:00Z');
      const daily = throttle(store, clock, { maxFailures: 2, windowMinutes: 24 * 60, lockMinutes: 60 });
      assert.equal(await daily.consume('country:GB'), null);
      assert.equal(await daily.consume('country:GB'), null);
      assert.ok(await daily.consume('country:GB'), 'the third use in the day is refused');
      clock.advanceMinutes(3 * 60);
      const until = await daily.consume('country:GB');
      assert.deepEqual(until, new Date('2026-06-02T09:00:00Z'), 'refused until the window ends');
      clock.advanceMinutes(21 * 60 + 1);
      assert.equal(await daily.consume('country:GB'), null, 'a new day has a new quota');
    });

    test('a block (after a report) refuses uses within the quota until it ends', {
      skip: skip ?? false,
    }, async () => {
      const clock = manualClock();
      const quota = throttle(store, clock, { maxFailures: 5, windowMinutes: 60, lockMinutes: 60 });
      const until = new Date(clock.now().getTime() + 30 * 60_000);
      await quota.block('account:reported', until);
      assert.deepEqual(await quota.consume('account:reported'), until);
      clock.advanceMinutes(31);
      assert.equal(await quota.consume('account:reported'), null);
    });
  });
}
