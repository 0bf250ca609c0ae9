import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Core, createCore, defaultCoreSettings } from '../../src/core/index.ts';
import { codeAt, matchingStep } from '../../src/core/methods/totp/totp-codes.ts';
import type { Account } from '../../src/core/model.ts';
import type { Store } from '../../src/core/store.ts';
import { manualClock } from '../helpers/clock.ts';
import { ENGINES, postgresUnavailable, type TestDatabase, testDatabase } from '../helpers/engines.ts';
import { addUser, registerCodeApp, TEST_SECRETS } from '../helpers/portal.ts';
import { attacker, BURST, outcomes, tally } from './burst.ts';

const { codeAttempts } = defaultCoreSettings;

/** A burst of verification-code guesses sent at once is checked no more often than the limit. */
for (const engine of ENGINES) {
  describe(`verification codes under a burst on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    const clock = manualClock('2026-06-01T09:00:00Z');
    let database: TestDatabase | undefined;
    let store: Store | undefined;
    let core: Core;
    let account: Account;
    let secret = '';

    before(async () => {
      if (skip) return;
      database = testDatabase(engine);
      store = await database.open();
      core = createCore({ store, clock, secrets: TEST_SECRETS, settings: defaultCoreSettings });
      account = await addUser(core, 'codes@example.org');
      secret = (await registerCodeApp(core, account.email, () => clock.now())).secret;
      clock.advanceMinutes(1); // a step of its own for the right code below
    });
    after(async () => {
      if (skip) return;
      // Even when opening failed: a half-migrated schema left behind would confuse later runs.
      await store?.close();
      await database?.drop();
    });

    /** Codes that were checked: each check ends in exactly one of these two audit events. */
    async function checked() {
      const events = await core.audit.list({ email: account.email, limit: 10_000 });
      return {
        rejected: events.filter((e) => e.type === 'totp.rejected').length,
        accepted: events.filter((e) => e.type === 'totp.accepted').length,
      };
    }

    test(`of ${BURST} wrong codes at once, only the limit's are checked, and the right one after them is refused`, {
      skip: skip ?? false,
    }, async () => {
      const now = clock.now();
      const right = codeAt(secret, now);
      const wrong: string[] = [];
      for (let n = 0; wrong.length < BURST; n++) {
        const code = String(n * 4999)
          .padStart(6, '0')
          .slice(-6);
        if (matchingStep(secret, code, now) === null) wrong.push(code);
      }
      const codes = await outcomes([
        ...wrong.map((code, i) => core.totp.verifyCode(account, code, attacker(i))),
        core.totp.verifyCode(account, right, '192.0.2.1'),
      ]);

      assert.deepEqual(
        await checked(),
        { rejected: codeAttempts.maxFailures, accepted: 0 },
        JSON.stringify(tally(codes)),
      );
      assert.equal(codes.at(-1), 'too_many_attempts', 'the right code in the burst is refused');
      assert.equal(codes.filter((c) => c === 'ok').length, 0);
      await assert.rejects(
        core.totp.verifyCode(account, right, '192.0.2.1'),
        (e: { code: string }) => e.code === 'too_many_attempts',
        'the right code sent afterwards is refused',
      );
      assert.deepEqual(
        await checked(),
        { rejected: codeAttempts.maxFailures, accepted: 0 },
        'and not checked',
      );

      clock.advanceMinutes(codeAttempts.lockMinutes + 1);
      await core.totp.verifyCode(account, codeAt(secret, clock.now()), '192.0.2.1');
      assert.equal((await checked()).accepted, 1, 'once the lock ends, the right code is accepted');
    });
  });
}
