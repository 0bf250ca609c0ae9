import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CLI_ACTOR } from '../../src/core/console/actor.ts';
import { manualClock } from '../helpers/clock.ts';
import { consoleUser } from '../helpers/console.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';

const DAY = 24 * 60;
const isoDay = (date: Date) => date.toISOString().slice(0, 10).split('-');

/** The exemption register on each engine: terms, the order, the export, and what a lapse does. */
for (const engine of ENGINES) {
  describe(`exemption register (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let portal: TestPortal;
    let operator: InjectClient;
    const clock = manualClock();
    const inDays = (days: number) => new Date(clock.now().getTime() + days * DAY * 60_000);

    before(async () => {
      if (skip) return;
      portal = await startTestPortal({ engine, clock });
      operator = (
        await consoleUser(portal.core, portal.app, clock, 'register.operator@example.org', 'operator')
      ).client;
    });
    after(async () => portal?.close());

    test('a review date in the past, no owner or no reason: a clear message, nothing written', {
      skip: skip ?? false,
    }, async () => {
      await addUser(portal.core, 'pending.exempt@example.org');
      const [y, m, d] = isoDay(inDays(-1));
      const form = {
        email: 'pending.exempt@example.org',
        owner: 'Ward manager',
        reason: 'no phone signal',
        'review-day': d!,
        'review-month': m!,
        'review-year': y!,
      };
      const past = await operator.post('/admin/exemptions/accounts', form, { formPage: '/admin/exemptions' });
      assert.equal(past.statusCode, 400);
      assert.match(past.body, /Enter a review date in the future/);
      const [fy, fm, fd] = isoDay(inDays(60));
      const future = { ...form, 'review-day': fd!, 'review-month': fm!, 'review-year': fy! };
      assert.match(
        (
          await operator.post(
            '/admin/exemptions/accounts',
            { ...future, owner: ' ' },
            { formPage: '/admin/exemptions' },
          )
        ).body,
        /Enter who owns this exemption/,
      );
      assert.match(
        (
          await operator.post(
            '/admin/exemptions/accounts',
            { ...future, reason: '' },
            { formPage: '/admin/exemptions' },
          )
        ).body,
        /Enter the reason for this action/,
      );
      assert.match(
        (
          await operator.post(
            '/admin/exemptions/accounts',
            { ...future, 'review-day': '31', 'review-month': '2' },
            { formPage: '/admin/exemptions' },
          )
        ).body,
        /Enter a review date in the future/,
      );
      assert.match(
        (
          await operator.post(
            '/admin/exemptions/accounts',
            { ...future, email: 'nobody@example.org' },
            { formPage: '/admin/exemptions' },
          )
        ).body,
        /There is no account with that email address/,
      );
      const account = await portal.core.accounts.find('pending.exempt@example.org');
      assert.equal(await portal.store.exemptions.find(account?.id ?? ''), undefined);
      assert.equal(
        (await portal.core.audit.list({ limit: 1000 })).filter((e) => e.type === 'exemption.set').length,
        0,
      );
    });

    test('the register lists due exemptions first, and exports them as CSV', {
      skip: skip ?? false,
    }, async () => {
      await addUser(portal.core, 'later@example.org');
      await addUser(portal.core, 'soon@example.org');
      const terms = (days: number) => ({
        owner: 'IT security',
        reason: 'clinical system',
        reviewAt: inDays(days),
      });
      await portal.core.console.exemptions.exemptAccount(CLI_ACTOR, 'later@example.org', terms(200));
      await portal.core.console.exemptions.exemptAccount(CLI_ACTOR, 'soon@example.org', terms(20));
      await portal.core.console.exemptions.exemptGroup(CLI_ACTOR, 'theatres', {
        message: 'Guidance will follow',
        ...terms(10),
      });
      const names = (await portal.core.console.exemptions.list()).map((e) => `${e.status}:${e.name}`);
      assert.deepEqual(names, ['due:theatres', 'due:soon@example.org', 'current:later@example.org']);
      const page = await operator.get('/admin/exemptions');
      assert.equal(page.statusCode, 200);
      assert.ok(page.body.indexOf('soon@example.org') < page.body.indexOf('later@example.org'));
      const csv = await operator.get('/admin/exemptions.csv');
      assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
      const lines = csv.body.trim().split('\r\n');
      assert.equal(lines[0], '"kind","name","owner","reason","review_date","status"');
      assert.equal(
        lines[1],
        `"group","theatres","IT security","clinical system","${inDays(10).toISOString().slice(0, 10)}","due"`,
      );
      assert.equal(lines.length, 4);
    });

    test('past its review date an exemption stops counting: the member is asked to enrol at sign-in', {
      skip: skip ?? false,
    }, async () => {
      await addUser(portal.core, 'ward.member@example.org', { groups: ['secure care'] });
      await portal.core.console.exemptions.exemptGroup(CLI_ACTOR, 'secure care', {
        message: 'Further guidance will be circulated',
        owner: 'Head of nursing',
        reason: 'no phones on the ward',
        reviewAt: inDays(5),
      });
      const signIn = async () => {
        const pc = new InjectClient(portal.app);
        const response = await pc.post(
          '/signin',
          { email: 'ward.member@example.org', password: TEST_PASSWORD },
          { formPage: '/signin' },
        );
        return { pc, response };
      };
      const before = await signIn();
      assert.equal(before.response.headers.location, '/');
      assert.match(
        (await before.pc.get('/profile/self-service')).body,
        /Further guidance will be circulated/,
      );

      clock.advanceMinutes(6 * DAY);
      const afterLapse = await signIn();
      assert.equal(afterLapse.response.headers.location, '/profile/self-service');
      const self = await afterLapse.pc.get('/profile/self-service');
      assert.match(self.body, /no longer has an exception from multi-factor authentication/);
      assert.match(self.body, /Self-enrol/);
      const entry = (await portal.core.console.exemptions.list()).find((e) => e.name === 'secure care');
      assert.equal(entry?.status, 'lapsed');
      // Enrolling is allowed now.
      const account = await portal.core.accounts.find('ward.member@example.org');
      assert.ok(account);
      await portal.core.enrolment.enable(account, '192.0.2.1');
    });
  });
}
