import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NoticeKind } from '../../src/core/model.ts';
import { manualClock } from '../helpers/clock.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import { addUser, insertCodeApp, startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';

/**
 * The security notices each real action queues (issue 14, part 5): a method added through the
 * registration wizard, a method removed, an app password created, a lockout after wrong passwords.
 * Delivery through a real SMTP server is test/channels/notices-smtp.test.ts.
 */
for (const engine of ENGINES) {
  describe(`security notices queued by the actions themselves (${engine})`, async () => {
    const skip = (engine === 'postgres' ? await postgresUnavailable() : null) ?? false;
    let portal: TestPortal;
    const clock = manualClock();

    before(async () => {
      if (!skip) portal = await startTestPortal({ engine, clock });
    });
    after(async () => {
      if (!skip) await portal?.close();
    });

    const kinds = async (email: string): Promise<NoticeKind[]> =>
      (await portal.store.notices.listForEmail(email)).map((n) => n.kind);

    test('registering the app, creating an app password and removing a method each queue one', {
      skip,
    }, async () => {
      const { email } = await pushJourneys({ core: portal.core, pcApp: portal.app, clock }).registered();
      assert.deepEqual(await kinds(email), ['method_added']);
      const account = (await portal.core.accounts.find(email))!;
      await portal.core.appPasswords.create(account, 'Outlook 2010', '198.51.100.20');
      const [, created] = await portal.store.notices.listForEmail(email);
      assert.equal(created?.kind, 'app_password_created');
      assert.equal(created?.facts.what, 'Outlook 2010');
      assert.equal(created?.facts.clientAddress, '198.51.100.20');
      const { methodId } = await insertCodeApp(portal.store, account.id);
      await portal.core.methods.remove(account, methodId, '198.51.100.21');
      assert.deepEqual(await kinds(email), ['method_added', 'app_password_created', 'method_removed']);
    });

    test('a lockout queues one notice for the account, however many attempts follow', { skip }, async () => {
      const email = 'locked.out@example.org';
      await addUser(portal.core, email);
      for (let i = 0; i < 8; i++) {
        await assert.rejects(
          portal.core.flow.signIn({
            email,
            password: `Wrong-Guess-${i}-xx`,
            clientAddress: `192.0.2.${i + 1}`,
          }),
        );
      }
      assert.deepEqual(await kinds(email), ['lockout']);
    });
  });
}
