import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CLI_ACTOR } from '../../src/core/console/actor.ts';
import { AUDIT_EXPORT_BATCH, AUDIT_PAGE_SIZE, auditFilterOf } from '../../src/core/console/audit-view.ts';
import { REGISTRATION_CATEGORIES } from '../../src/core/console/reports.ts';
import type { AuditEventInput, AuditEventType } from '../../src/core/model.ts';
import { signInStepOf } from '../../src/core/monitoring/sign-in-outcomes.ts';
import { manualClock } from '../helpers/clock.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import { insertPhone } from '../helpers/own-account.ts';
import { addUser, insertCodeApp, startTestPortal, type TestPortal } from '../helpers/portal.ts';

const DAY = 86_400_000;

async function collect(chunks: AsyncIterable<string>) {
  const parts: string[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return parts;
}

/** The console's audit log and reports on each engine: filters, keyset pages, exports, counts. */
for (const engine of ENGINES) {
  describe(`console audit log and reports (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let portal: TestPortal;
    const clock = manualClock('2026-06-10T12:00:00Z');
    const view = () => portal.core.console.auditView;
    const reports = () => portal.core.console.reports;

    before(async () => {
      if (!skip) portal = await startTestPortal({ engine, clock });
    });
    after(async () => portal?.close());

    const append = (events: (AuditEventInput & { at: Date })[]) => portal.store.audit.appendMany(events);

    test('pages of the log are keyset pages: every event once, newest first, both ways', {
      skip: skip ?? false,
    }, async () => {
      const email = 'paged@example.org';
      const start = clock.now().getTime() - 10 * DAY;
      await append(
        Array.from({ length: 2 * AUDIT_PAGE_SIZE + 7 }, (_, i) => ({
          type: 'signin.failed' as const,
          email,
          actor: i % 3 === 0 ? 'op@example.org' : null,
          at: new Date(start + i * 60_000),
        })),
      );
      const filter = auditFilterOf({ account: 'PAGED@example.org' });
      const first = await view().page(filter);
      assert.equal(first.events.length, AUDIT_PAGE_SIZE);
      assert.equal(first.newer, undefined);
      assert.ok(first.older);
      const second = await view().page(filter, { before: first.older });
      const third = await view().page(filter, { before: second.older });
      assert.equal(third.events.length, 7);
      assert.equal(third.older, undefined);
      const ids = [...first.events, ...second.events, ...third.events].map((e) => e.id);
      assert.equal(new Set(ids).size, 2 * AUDIT_PAGE_SIZE + 7);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => b - a),
        'newest first',
      );
      // Back from the third page: the second page again, exactly.
      const back = await view().page(filter, { after: third.newer });
      assert.deepEqual(
        back.events.map((e) => e.id),
        second.events.map((e) => e.id),
      );
      assert.equal(back.newer, second.newer);
      const backAgain = await view().page(filter, { after: back.newer });
      assert.deepEqual(
        backAgain.events.map((e) => e.id),
        first.events.map((e) => e.id),
      );
      assert.equal(backAgain.newer, undefined);
    });

    test('filters by account, event type, operator and time range, together', {
      skip: skip ?? false,
    }, async () => {
      const t0 = Date.parse('2026-05-01T10:00:00Z');
      await append([
        { type: 'account.disabled', email: 'f1@example.org', actor: 'desk@example.org', at: new Date(t0) },
        {
          type: 'account.enabled',
          email: 'f1@example.org',
          actor: 'desk@example.org',
          at: new Date(t0 + DAY),
        },
        {
          type: 'account.disabled',
          email: 'f2@example.org',
          actor: 'desk@example.org',
          at: new Date(t0 + DAY),
        },
        { type: 'account.disabled', email: 'f1@example.org', actor: 'cli', at: new Date(t0 + 2 * DAY) },
      ]);
      const found = async (input: Parameters<typeof auditFilterOf>[0]) =>
        (await view().page(auditFilterOf(input))).events.map((e) => `${e.type} ${e.email} ${e.actor}`);
      assert.deepEqual(await found({ operator: 'desk@example.org', type: 'account.disabled' }), [
        'account.disabled f2@example.org desk@example.org',
        'account.disabled f1@example.org desk@example.org',
      ]);
      assert.deepEqual(await found({ account: 'f1@example.org', from: '2026-05-02', to: '2026-05-03' }), [
        'account.disabled f1@example.org cli',
        'account.enabled f1@example.org desk@example.org',
      ]);
      assert.deepEqual(await found({ account: 'f1@example.org', to: '2026-05-01' }), [
        'account.disabled f1@example.org desk@example.org',
      ]);
      assert.deepEqual(
        await found({ account: 'f1@example.org', from: '2026-05-02T10:00:00Z', to: '2026-05-02T10:00:01Z' }),
        ['account.enabled f1@example.org desk@example.org'],
      );
    });

    test('refuses a 1 MB filter, an unknown type, a bad date and a reversed range', {
      skip: skip ?? false,
    }, () => {
      const huge = 'a'.repeat(1024 * 1024);
      for (const input of [{ account: huge }, { operator: huge }, { type: huge }, { from: huge }])
        assert.throws(() => auditFilterOf(input), { code: 'console_filter_invalid' });
      assert.throws(() => auditFilterOf({ type: 'no.such' }), {
        code: 'console_filter_invalid',
        details: { field: 'type' },
      });
      assert.throws(() => auditFilterOf({ from: '2026-02-30' }), {
        code: 'console_filter_invalid',
        details: { field: 'from' },
      });
      assert.throws(() => auditFilterOf({ from: '2026-05-03', to: '2026-05-01' }), {
        code: 'time_range_invalid',
      });
      assert.throws(() => auditFilterOf({ from: '2026-05-03T10:00:00Z', to: '2026-05-03T09:00:00Z' }), {
        code: 'time_range_invalid',
      });
    });

    test('the export streams in batches, every matching row once, cells defused', {
      skip: skip ?? false,
    }, async () => {
      const email = 'export@example.org';
      const count = 2 * AUDIT_EXPORT_BATCH + 5;
      const at = new Date(clock.now().getTime() - DAY);
      await append(
        Array.from({ length: count }, (_, i) => ({
          type: 'signin.failed' as const,
          email,
          clientAddress: i === 0 ? '=HYPERLINK("http://evil.example")' : '192.0.2.1',
          detail: { reason: i === 1 ? '@SUM(1+1)' : 'wrong_password' },
          at,
        })),
      );
      const before = (await portal.store.audit.list({ limit: 100_000 })).length;
      const chunks = await collect(await view().exportCsv(CLI_ACTOR, auditFilterOf({ account: email })));
      // A header, then one chunk per batch read: never one string of everything.
      assert.equal(chunks.length, 1 + Math.ceil(count / AUDIT_EXPORT_BATCH));
      const lines = chunks.join('').split('\r\n').filter(Boolean);
      assert.equal(lines[0], '"id","at","type","account","actor","client_address","detail"');
      assert.equal(lines.length, count + 1);
      assert.ok(
        lines.some((l) => l.includes(`"'=HYPERLINK(""http://evil.example"")"`)),
        'a formula is defused',
      );
      assert.ok(
        lines.every((l) => !/,"[=+\-@]/.test(l)),
        'no cell starts with a formula character',
      );
      const exported = (await portal.store.audit.list({ limit: 100_000 })).slice(0, 1);
      assert.equal(exported[0]?.type, 'console.exported');
      assert.deepEqual(exported[0]?.detail, { what: 'audit_log', filter: { account: email } });
      assert.equal((await portal.store.audit.list({ limit: 100_000 })).length, before + 1);
    });

    test('sign-in activity counts what signInStepOf makes of each event, by day', {
      skip: skip ?? false,
    }, async () => {
      const day1 = Date.parse('2026-04-10T08:00:00Z');
      const events: (AuditEventInput & { at: Date })[] = [];
      const add = (type: AuditEventType, detail: Record<string, unknown>, times: number, day: number) => {
        for (let i = 0; i < times; i++)
          events.push({ type, email: 'act@example.org', detail, at: new Date(day1 + day * DAY + i) });
      };
      add('signin.succeeded', { factors: ['pwd'], stage: 'complete' }, 3, 0);
      add('signin.failed', { reason: 'wrong_password' }, 2, 0);
      add('signin.failed', { reason: 'locked' }, 1, 1);
      add('signin.failed', { protocol: 'ldap', reason: 'wrong_password' }, 1, 1);
      add('signin.locked', { until: 'x' }, 2, 1);
      add('mfa.verified', { challenge: `push:${randomUUID()}`, factors: ['pwd'] }, 2, 0);
      add('mfa.verified', { challenge: `push:${randomUUID()}`, factors: ['pwd'] }, 1, 1);
      add('mfa.verified', { challenge: `totp:${randomUUID()}`, factors: ['pwd'] }, 1, 1);
      add('mfa.verified', { challenge: `phone:${randomUUID()}`, factors: ['pwd', 'sms'] }, 1, 1);
      add('mfa.verified', { challenge: `phone:${randomUUID()}`, factors: ['pwd', 'call'] }, 1, 1);
      add('phone.failed', { channel: 'sms', reason: 'wrong_code' }, 1, 2);
      add('phone.failed', { reason: 'no_answer' }, 1, 2);
      add('legacy.signed_in', { credential: 'password_and_push' }, 1, 2);
      add('legacy.signed_in', { protocol: 'imap' }, 1, 2);
      add('push.reported', {}, 1, 2);
      add('phone.reported', {}, 1, 2);
      add('signin.reported', { event: 1 }, 2, 2);
      add('push.denied', {}, 1, 3);
      add('account.added', {}, 5, 0);
      add('signin.succeeded', {}, 4, 9); // outside the range
      await append(events);
      const activity = await reports().signInActivity({ from: '2026-04-10', to: '2026-04-13' });
      const expected = new Map<string, number>();
      for (const e of events) {
        const step = signInStepOf(e);
        const day = e.at.toISOString().slice(0, 10);
        if (step && day <= '2026-04-13') {
          const key = `${day} ${step.method} ${step.outcome}`;
          expected.set(key, (expected.get(key) ?? 0) + 1);
        }
      }
      const got = new Map(activity.steps.map((s) => [`${s.day} ${s.method} ${s.outcome}`, s.count]));
      assert.deepEqual(Object.fromEntries([...got].sort()), Object.fromEntries([...expected].sort()));
      assert.equal(got.get('2026-04-11 text success'), 1);
      assert.equal(got.get('2026-04-11 phone_call success'), 1);
      assert.equal(got.get('2026-04-11 legacy_password failure'), 1);
      assert.equal(got.get('2026-04-10 password success'), 3);
      assert.deepEqual(activity.lockouts, [{ day: '2026-04-11', count: 2 }]);
      assert.deepEqual(activity.reports.map((r) => `${r.day} ${r.type} ${r.count}`).sort(), [
        '2026-04-12 phone.reported 1',
        '2026-04-12 push.reported 1',
        '2026-04-12 signin.reported 2',
      ]);
      await assert.rejects(reports().signInActivity({ from: '2026-04-13', to: '2026-04-10' }), {
        code: 'time_range_invalid',
      });
      await assert.rejects(reports().signInActivity({ from: '2026-01-01', to: '2026-06-01' }), {
        code: 'time_range_invalid',
      });
    });

    test('the registration report: known numbers, each list as long as its number, by group', {
      skip: skip ?? false,
    }, async () => {
      const accounts = portal.core.accounts;
      const id = async (email: string) => (await accounts.find(email))?.id ?? assert.fail(email);
      const app = async (email: string) =>
        portal.store.methods.insert({
          id: randomUUID(),
          accountId: await id(email),
          kind: 'authenticator_app',
          label: 'Phone',
          status: 'active',
          isDefault: true,
          createdAt: clock.now(),
          lastUsedAt: null,
          data: {},
        });
      for (const n of [1, 2, 3]) {
        await addUser(portal.core, `app${n}@reg.example`, { groups: ['ward a'] });
        await app(`app${n}@reg.example`);
      }
      await portal.store.accounts.enableMfa(await id('app1@reg.example'), clock.now());
      await portal.store.accounts.enableMfa(await id('app2@reg.example'), clock.now());
      for (const n of [1, 2]) {
        await addUser(portal.core, `phone${n}@reg.example`, { groups: ['ward b'] });
        await insertPhone(portal.store, await id(`phone${n}@reg.example`));
      }
      await insertCodeApp(portal.store, await id('phone2@reg.example'));
      // A pending method is not a registration.
      await portal.store.methods.insert({
        id: randomUUID(),
        accountId: await id('phone1@reg.example'),
        kind: 'totp',
        label: 'pending',
        status: 'pending',
        isDefault: false,
        createdAt: clock.now(),
        lastUsedAt: null,
        data: {},
      });
      await addUser(portal.core, 'exempt@reg.example', { groups: ['ward a'] });
      await portal.core.console.exemptions.exemptAccount(CLI_ACTOR, 'exempt@reg.example', {
        owner: 'IT',
        reason: 'no phone allowed',
        reviewAt: new Date(clock.now().getTime() + 10 * DAY),
      });
      await addUser(portal.core, 'none@reg.example', { groups: ['ward b'] });
      await addUser(portal.core, 'careful@reg.example', { groups: ['secure care'] });
      await portal.core.console.exemptions.exemptGroup(CLI_ACTOR, 'secure care', {
        message: 'Guidance will follow',
        owner: 'Ward manager',
        reason: 'clinical',
        reviewAt: new Date(clock.now().getTime() + 5 * DAY),
      });
      await addUser(portal.core, 'shared@reg.example', { sharedMailbox: true, groups: ['secure care'] });
      await addUser(portal.core, 'card@reg.example');
      await portal.store.certificateBindings.insert({
        id: randomUUID(),
        accountId: await id('card@reg.example'),
        issuer: 'CN=Test CA',
        serial: '0A',
        subject: 'CN=Card',
        fingerprint: 'ab'.repeat(32),
        notAfter: new Date(clock.now().getTime() + 300 * DAY),
        createdAt: clock.now(),
        lastUsedAt: null,
      });

      // A passkey alone is a registration (it was once counted as none).
      await addUser(portal.core, 'key@reg.example');
      await portal.store.methods.insert({
        id: randomUUID(),
        accountId: await id('key@reg.example'),
        kind: 'passkey',
        label: 'Blue key',
        status: 'active',
        isDefault: false,
        createdAt: clock.now(),
        lastUsedAt: null,
        data: {},
      });

      // Only this test's accounts: other tests' events made none (accounts come from addUser here).
      const { counts } = await reports().registration();
      assert.deepEqual(counts, {
        all: 11,
        mfa_enabled: 2,
        mfa_not_enabled: 9,
        'method:authenticator_app': 3,
        'method:totp': 1,
        'method:phone': 2,
        'method:smartcard': 1,
        'method:passkey': 1,
        none: 1,
        exempt: 2,
        shared_mailbox: 1,
      });
      for (const category of REGISTRATION_CATEGORIES) {
        const listed: string[] = [];
        let after: string | undefined;
        do {
          const page = await reports().registrationList({ category, after });
          listed.push(...page.accounts.map((a) => a.email));
          after = page.next;
        } while (after);
        assert.equal(listed.length, counts[category], category);
      }
      assert.deepEqual(
        (await reports().registrationList({ category: 'none' })).accounts.map((a) => a.email),
        ['none@reg.example'],
      );
      assert.deepEqual(
        (await reports().registrationList({ category: 'exempt' })).accounts.map((a) => a.email),
        ['careful@reg.example', 'exempt@reg.example'],
      );
      const wardA = await reports().registration({ group: 'ward a' });
      assert.equal(wardA.counts.all, 4);
      assert.equal(wardA.counts.exempt, 1);
      assert.equal(wardA.counts['method:authenticator_app'], 3);
      const { groups } = await reports().groups();
      assert.deepEqual(
        groups.map((g) => [g.group, g.excluded, g.members, g.counts]),
        [
          ['secure care', true, 2, { mfa_enabled: 0, registered: 0, exempt: 1, none: 0 }],
          ['ward a', false, 4, { mfa_enabled: 2, registered: 3, exempt: 1, none: 0 }],
          ['ward b', false, 3, { mfa_enabled: 0, registered: 2, exempt: 0, none: 1 }],
        ],
      );
      const csv = (
        await collect(await reports().exportRegistration(CLI_ACTOR, { category: 'method:phone' }))
      ).join('');
      assert.equal(
        csv,
        '"email","name","mfa_enabled","disabled"\r\n"phone1@reg.example","phone1","no","no"\r\n"phone2@reg.example","phone2","no","no"\r\n',
      );

      // Past its review date an exemption stops counting: those people have no method yet.
      clock.advanceMinutes(11 * 24 * 60);
      const later = (await reports().registration()).counts;
      assert.equal(later.exempt, 0);
      assert.equal(later.none, 3);
      await assert.rejects(reports().registrationList({ category: 'nonsense' }), {
        code: 'console_filter_invalid',
      });
      await assert.rejects(reports().registration({ group: 'g'.repeat(1024 * 1024) }), {
        code: 'console_filter_invalid',
      });
    });
  });
}
