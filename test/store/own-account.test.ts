import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { aesGcmSecretBox } from '../../src/core/crypto/secret-box.ts';
import { type Core, createCore } from '../../src/core/index.ts';
import type { Notice } from '../../src/core/model.ts';
import type { Store } from '../../src/core/store.ts';
import { ENGINES, postgresUnavailable, type TestDatabase, testDatabase } from '../helpers/engines.ts';
import { addUser, openTestSession } from '../helpers/portal.ts';

const at = (iso: string) => new Date(iso);

function notice(email: string, extra: Partial<Notice> = {}): Notice {
  return {
    id: randomUUID(),
    email,
    kind: 'password_changed',
    facts: { at: '2026-06-01T09:00:00.000Z', clientAddress: '192.0.2.1' },
    createdAt: at('2026-06-01T09:00:00Z'),
    nextAttemptAt: at('2026-06-01T09:00:00Z'),
    attempts: 0,
    sentAt: null,
    lastError: null,
    ...extra,
  };
}

// One suite, run unchanged on each engine: the queue, resets, nudges and signing out everywhere.
for (const engine of ENGINES) {
  describe(`the user's own account on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let database: TestDatabase;
    let store: Store;
    let core: Core;

    before(async () => {
      if (skip) return;
      database = testDatabase(engine);
      store = await database.open();
      core = createCore({ store, secrets: aesGcmSecretBox(Buffer.alloc(32, 3)) });
    });
    after(async () => {
      if (skip) return;
      await store.close();
      await database.drop();
    });

    test('a due notice is claimed by one of many senders at once, and waits again after a failure', {
      skip: skip ?? false,
    }, async () => {
      const queued = notice('queue@example.org');
      await store.notices.insert(queued);
      const now = at('2026-06-01T09:00:01Z');
      const claims = await Promise.all(
        Array.from({ length: 8 }, () => store.notices.claimDue(now, 60_000, 10)),
      );
      const winners = claims.filter((c) => c.some((n) => n.id === queued.id));
      assert.equal(winners.length, 1, 'exactly one sender holds the notice');
      assert.equal(winners[0]?.[0]?.attempts, 1);
      // Held: nobody else gets it while the lease lasts.
      assert.deepEqual(await store.notices.claimDue(at('2026-06-01T09:00:30Z'), 60_000, 10), []);
      await store.notices.markFailed(queued.id, 'ECONNREFUSED', at('2026-06-01T09:05:00Z'));
      assert.deepEqual(await store.notices.claimDue(at('2026-06-01T09:04:00Z'), 60_000, 10), []);
      const again = await store.notices.claimDue(at('2026-06-01T09:05:00Z'), 60_000, 10);
      assert.equal(again[0]?.id, queued.id);
      assert.equal(again[0]?.attempts, 2);
      await store.notices.markSent(queued.id, at('2026-06-01T09:05:01Z'));
      assert.deepEqual(await store.notices.claimDue(at('2026-06-02T00:00:00Z'), 60_000, 10), []);
      const [stored] = await store.notices.listForEmail('queue@example.org');
      assert.equal(stored?.sentAt?.toISOString(), '2026-06-01T09:05:01.000Z');
      assert.equal(stored?.lastError, null);
    });

    test('a sender that died loses its claim when the lease ends', { skip: skip ?? false }, async () => {
      const queued = notice('lease@example.org');
      await store.notices.insert(queued);
      assert.equal((await store.notices.claimDue(at('2026-06-01T09:00:01Z'), 60_000, 10)).length, 1);
      const later = await store.notices.claimDue(at('2026-06-01T09:01:02Z'), 60_000, 10);
      assert.ok(later.some((n) => n.id === queued.id));
    });

    test('auditing a password change queues a notice; an address that names no account gets none', {
      skip: skip ?? false,
    }, async () => {
      await addUser(core, 'noticed@example.org');
      await core.audit.record({
        type: 'account.password_changed',
        email: 'noticed@example.org',
        clientAddress: '198.51.100.7',
      });
      await core.audit.record({
        type: 'signin.locked',
        email: 'nobody@example.org',
        clientAddress: '198.51.100.7',
      });
      const [queued] = await store.notices.listForEmail('noticed@example.org');
      assert.equal(queued?.kind, 'password_changed');
      assert.equal(queued?.facts.clientAddress, '198.51.100.7');
      assert.deepEqual(await store.notices.listForEmail('nobody@example.org'), []);
    });

    test('a reset counts each factor once, in order, and completes once', {
      skip: skip ?? false,
    }, async () => {
      const idHash = randomUUID();
      const now = at('2026-06-01T09:00:00Z');
      await store.passwordResets.insert({
        idHash,
        browserHash: 'b',
        accountId: null,
        email: 'reset@example.org',
        factors: [],
        createdAt: now,
        expiresAt: at('2026-06-01T09:15:00Z'),
        completedAt: null,
      });
      const raced = await Promise.all([
        store.passwordResets.addFactor(idHash, [], 'app', now),
        store.passwordResets.addFactor(idHash, [], 'app', now),
        store.passwordResets.addFactor(idHash, [], 'phone', now),
      ]);
      assert.equal(raced.filter(Boolean).length, 1, 'one first factor, however many arrive at once');
      const first = (await store.passwordResets.find(idHash))?.factors ?? [];
      assert.equal(first.length, 1);
      const second = first[0] === 'app' ? 'phone' : 'app';
      assert.equal(await store.passwordResets.addFactor(idHash, first, second, now), true);
      assert.deepEqual((await store.passwordResets.find(idHash))?.factors, ['app', 'phone']);
      const completions = await Promise.all([
        store.passwordResets.complete(idHash, now),
        store.passwordResets.complete(idHash, now),
      ]);
      assert.deepEqual(completions.sort(), [false, true]);
      assert.equal(await store.passwordResets.addFactor(idHash, ['app', 'phone'], 'smartcard', now), false);
    });

    test('Not now is counted up to the limit only', { skip: skip ?? false }, async () => {
      const account = await addUser(core, 'snoozer@example.org');
      const until = at('2026-06-02T09:00:00Z');
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await store.nudges.snooze(account.id, until, 3));
      assert.deepEqual(results, [true, true, true, false]);
      assert.equal((await store.nudges.find(account.id))?.snoozes, 3);
    });

    test('signing out everywhere ends every portal session and single sign-on record of the account only', {
      skip: skip ?? false,
    }, async () => {
      const account = await addUser(core, 'everywhere@example.org');
      const other = await addUser(core, 'bystander@example.org');
      const kept = await openTestSession(store, account, 'complete');
      await openTestSession(store, account, 'complete');
      const bystander = await openTestSession(store, other, 'complete');
      for (const [model, accountId] of [
        ['Session', account.id],
        ['RefreshToken', account.id],
        ['Grant', account.id],
        ['Session', other.id],
      ] as const)
        await core.singleSignOn.save(model, randomUUID(), { accountId, grantId: 'g' }, 3600);
      const { hashSessionToken } = await import('../../src/core/sessions/session-token.ts');
      const ended = await core.signOutEverywhere(account, {
        reason: 'user_request',
        keep: hashSessionToken(kept),
      });
      assert.deepEqual(ended, { portalSessions: 1, singleSignOn: 3 });
      assert.ok(await core.sessions.resume(kept, '192.0.2.1'), 'the session that asked stays');
      assert.ok(await core.sessions.resume(bystander, '192.0.2.1'), "another account's session stays");
      const all = await core.signOutEverywhere(account, { reason: 'operator', actor: 'ops' });
      assert.deepEqual(all, { portalSessions: 1, singleSignOn: 0 });
      assert.equal(await core.sessions.resume(kept, '192.0.2.1'), undefined);
      const [event] = await core.audit.list({ email: account.email, limit: 1 });
      assert.equal(event?.type, 'session.ended_everywhere');
      assert.equal(event?.actor, 'ops');
      assert.equal(event?.detail.reason, 'operator');
    });

    test('the audit log lists an account’s events since a time, of the types asked', {
      skip: skip ?? false,
    }, async () => {
      await core.audit.record({
        type: 'signin.failed',
        email: 'history@example.org',
        detail: { reason: 'wrong_password' },
      });
      await core.audit.record({ type: 'signout', email: 'history@example.org' });
      const listed = await store.audit.list({
        email: 'history@example.org',
        limit: 10,
        since: new Date(Date.now() - 60_000),
        types: ['signin.failed'],
      });
      assert.deepEqual(
        listed.map((e) => e.type),
        ['signin.failed'],
      );
      assert.equal((await store.audit.find(listed[0]!.id))?.type, 'signin.failed');
      assert.deepEqual(
        await store.audit.list({
          email: 'history@example.org',
          limit: 10,
          since: new Date(Date.now() + 60_000),
        }),
        [],
      );
    });
  });
}
