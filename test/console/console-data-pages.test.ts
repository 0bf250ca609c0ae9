import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../helpers/clock.ts';
import { consoleUser } from '../helpers/console.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import { addUser, startTestPortal, type TestPortal } from '../helpers/portal.ts';

/** The audit log and report pages through the portal: what an operator and an auditor read. */
for (const engine of ENGINES) {
  describe(`console audit log and report pages (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let portal: TestPortal;
    const clock = manualClock('2026-06-10T12:00:00Z');

    before(async () => {
      if (skip) return;
      portal = await startTestPortal({ engine, clock });
      await addUser(portal.core, 'watched@example.org');
      await portal.store.audit.appendMany([
        {
          type: 'account.disabled',
          email: 'watched@example.org',
          actor: 'desk@example.org',
          at: clock.now(),
        },
        { type: 'signin.failed', email: 'watched@example.org', clientAddress: '=1+1', at: clock.now() },
        { type: 'signin.failed', email: 'other@example.org', at: clock.now() },
      ]);
    });
    after(async () => portal?.close());

    const eventCount = async () => (await portal.store.audit.list({ limit: 100_000 })).length;

    test('an auditor filters the log by account and exports it; the export is audited', {
      skip: skip ?? false,
    }, async () => {
      const { client } = await consoleUser(
        portal.core,
        portal.app,
        clock,
        'auditor.log@example.org',
        'auditor',
      );
      const page = await client.get('/admin/audit?account=watched%40example.org&type=signin.failed');
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<h1 class="nhsuk-heading-l">Audit log<\/h1>/);
      assert.match(page.body, /watched@example\.org/);
      assert.doesNotMatch(page.body, /other@example\.org/);
      assert.doesNotMatch(page.body, /account\.disabled<\/td>/);
      assert.match(
        page.body,
        /href="\/admin\/audit\.csv\?account=watched%40example\.org&amp;type=signin\.failed"/,
      );
      const csv = await client.get('/admin/audit.csv?account=watched%40example.org');
      assert.equal(csv.statusCode, 200);
      assert.match(String(csv.headers['content-type']), /^text\/csv/);
      assert.match(String(csv.headers['content-disposition']), /attachment; filename="audit-log.csv"/);
      const lines = csv.body.split('\r\n').filter(Boolean);
      assert.equal(lines[0], '"id","at","type","account","actor","client_address","detail"');
      assert.ok(lines.slice(1).every((l) => l.includes('"watched@example.org"')));
      assert.ok(
        lines.some((l) => l.includes(`"'=1+1"`)),
        'the formula is defused',
      );
      assert.ok(lines.some((l) => l.includes('"account.disabled"')));
      const [exported] = await portal.store.audit.list({ limit: 1 });
      assert.equal(exported?.type, 'console.exported');
      assert.equal(exported?.actor, 'auditor.log@example.org');
    });

    test('a 1 MB filter and a reversed range get a clear message and write nothing', {
      skip: skip ?? false,
    }, async () => {
      const { client } = await consoleUser(
        portal.core,
        portal.app,
        clock,
        'operator.bad@example.org',
        'operator',
      );
      const huge = 'a'.repeat(1024 * 1024);
      const before = await eventCount();
      for (const url of [`/admin/audit?account=${huge}`, `/admin/audit.csv?operator=${huge}`]) {
        const response = await client.get(url);
        assert.equal(response.statusCode, 400, url.slice(0, 20));
        assert.match(response.body, /There is a problem/);
        assert.match(response.body, /Check the filter: an email address of at most 254 characters/);
        assert.ok(response.body.length < 100_000, 'the filter is not echoed');
      }
      for (const url of [
        '/admin/audit?from=2026-06-05&to=2026-06-01',
        '/admin/audit.csv?from=2026-06-05&to=2026-06-01',
      ]) {
        const response = await client.get(url);
        assert.equal(response.statusCode, 400);
        assert.match(response.body, /The end of the time range must be after its start/);
        assert.match(response.body, /href="#to"/);
      }
      const activity = await client.get('/admin/reports/activity?from=2026-06-05&to=2026-06-01');
      assert.equal(activity.statusCode, 400);
      assert.match(activity.body, /The end of the time range must be after its start/);
      const list = await client.get(`/admin/reports/registration?category=none&group=${huge}`);
      assert.equal(list.statusCode, 400);
      assert.match(list.body, /Check the filter/);
      const csv = await client.get('/admin/reports/registration.csv?category=nonsense');
      assert.equal(csv.statusCode, 400);
      assert.equal(await eventCount(), before, 'nothing written');
    });

    test('the reports page shows the numbers, each linked to its list and export', {
      skip: skip ?? false,
    }, async () => {
      const { client } = await consoleUser(
        portal.core,
        portal.app,
        clock,
        'operator.rep@example.org',
        'operator',
      );
      const page = await client.get('/admin/reports');
      assert.equal(page.statusCode, 200);
      const counts = await portal.core.console.reports.registration();
      assert.match(page.body, new RegExp(`id="count-all">[\\s\\S]*?>${counts.counts.all}</a>`));
      assert.match(page.body, /href="\/admin\/reports\/registration\?category=none"/);
      const list = await client.get('/admin/reports/registration?category=mfa_enabled');
      assert.equal(list.statusCode, 200);
      assert.match(list.body, new RegExp(`${counts.counts.mfa_enabled} accounts`));
      assert.match(list.body, /operator\.rep@example\.org/);
      const activity = await client.get('/admin/reports/activity');
      assert.equal(activity.statusCode, 200);
      assert.match(activity.body, /Sign-ins by method and outcome/);
      const activityCsv = await client.get('/admin/reports/activity.csv');
      assert.equal(activityCsv.statusCode, 200);
      assert.match(activityCsv.body, /^"day","what","method","outcome","count"\r\n/);
      const search = await client.get('/admin/accounts');
      assert.match(search.body, /href="\/admin\/audit"/);
      assert.match(search.body, /href="\/admin\/reports"/);
    });
  });
}
