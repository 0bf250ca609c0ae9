import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Core, createCore, defaultCoreSettings, type Session } from '../../src/core/index.ts';
import type { Telephony } from '../../src/core/methods/phone/telephony.ts';
import type { Account } from '../../src/core/model.ts';
import type { Store } from '../../src/core/store.ts';
import { manualClock } from '../helpers/clock.ts';
import { ENGINES, postgresUnavailable, type TestDatabase, testDatabase } from '../helpers/engines.ts';
import { addUser, openTestSession, TEST_SECRETS } from '../helpers/portal.ts';
import { attacker, BURST, outcomes, tally } from './burst.ts';

const { codeAttempts } = defaultCoreSettings;
const FROM = '192.0.2.1';

/** A burst of guesses at a texted code, sent at once, is checked no more often than the limit. */
for (const engine of ENGINES) {
  describe(`texted codes under a burst on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    const clock = manualClock('2026-06-01T09:00:00Z');
    /** The phone the texts reach (the network is the one part that is stood in for). */
    const texts: string[] = [];
    const telephony: Telephony = {
      placeCall: async () => {},
      sendText: async (message) => {
        texts.push(message.text);
      },
    };
    const lastCode = () => /^(\d{6}) is your /.exec(texts.at(-1) ?? '')?.[1] ?? assert.fail('no code texted');
    let database: TestDatabase | undefined;
    let store: Store | undefined;
    let core: Core;
    let account: Account;
    let session: Session;

    before(async () => {
      if (skip) return;
      database = testDatabase(engine);
      store = await database.open();
      core = createCore({ store, clock, secrets: TEST_SECRETS, telephony, settings: defaultCoreSettings });
      account = await addUser(core, 'texts@example.org');
      const token = await openTestSession(store, account, 'register_mfa');
      session = (await core.sessions.resume(token, FROM))?.session ?? assert.fail('no session');
      await core.phone.register(
        account,
        session,
        { country: 'GB', number: '07400 123456', channel: 'sms', office: false },
        FROM,
      );
    });
    after(async () => {
      if (skip) return;
      // Even when opening failed: a half-migrated schema left behind would confuse later runs.
      await store?.close();
      await database?.drop();
    });

    /** Codes that were compared: each comparison ends in one of these two audit events. */
    async function checked() {
      const events = await core.audit.list({ email: account.email, limit: 10_000 });
      return {
        wrong: events.filter((e) => e.type === 'phone.failed' && e.detail.reason === 'wrong_code').length,
        verified: events.filter((e) => e.type === 'phone.verified').length,
      };
    }

    test(`of ${BURST} wrong codes at once, only the limit's are compared, and the right one after them is refused`, {
      skip: skip ?? false,
    }, async () => {
      const right = lastCode();
      const wrong = Array.from({ length: BURST }, (_, i) => String(100000 + i * 3001)).filter(
        (c) => c !== right,
      );
      const codes = await outcomes([
        ...wrong.map((code, i) => core.phone.verifyText(account, session, 'registration', code, attacker(i))),
        core.phone.verifyText(account, session, 'registration', right, FROM),
      ]);

      assert.deepEqual(
        await checked(),
        { wrong: codeAttempts.maxFailures, verified: 0 },
        JSON.stringify(tally(codes)),
      );
      assert.equal(codes.at(-1), 'too_many_attempts', 'the right code in the burst is refused');
      await assert.rejects(
        core.phone.verifyText(account, session, 'registration', right, FROM),
        (e: { code: string }) => e.code === 'too_many_attempts',
        'the right code sent afterwards is refused',
      );
      assert.deepEqual(await checked(), { wrong: codeAttempts.maxFailures, verified: 0 }, 'and not compared');
      assert.equal((await core.phone.state(session, 'registration'))?.status, 'pending');

      clock.advanceMinutes(codeAttempts.lockMinutes + 1);
      await core.phone.retry(account, session, 'registration', 'sms', FROM);
      await core.phone.verifyText(account, session, 'registration', lastCode(), FROM);
      assert.equal((await checked()).verified, 1, 'once the lock ends, a new code is accepted');
    });
  });
}
