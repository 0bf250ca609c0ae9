import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { GatehouseError } from '../../src/core/errors.ts';
import type { NewAccount } from '../../src/core/model.ts';
import type { Store } from '../../src/core/store.ts';
import { ENGINES, postgresUnavailable, type TestDatabase, testDatabase } from '../helpers/engines.ts';

const at = (iso: string) => new Date(iso);

function newAccount(email: string, extra: Partial<NewAccount> = {}): NewAccount {
  return {
    id: randomUUID(),
    email,
    displayName: email,
    passwordHash: '$argon2id$placeholder',
    sharedMailbox: false,
    createdAt: at('2026-01-01T00:00:00Z'),
    groups: [],
    ...extra,
  };
}

// One suite, run unchanged on each engine.
for (const engine of ENGINES) {
  describe(`store on ${engine}`, async () => {
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

    test('stores an account with its groups and finds it by email and id', {
      skip: skip ?? false,
    }, async () => {
      const account = newAccount('alice@example.org', { groups: ['finance', 'secure care'] });
      await store.accounts.insert(account);
      const found = await store.accounts.findByEmail('alice@example.org');
      assert.equal(found?.id, account.id);
      assert.deepEqual(found?.groups, ['finance', 'secure care']);
      assert.equal(found?.mfaEnabled, false);
      assert.equal(found?.createdAt.toISOString(), '2026-01-01T00:00:00.000Z');
      assert.equal((await store.accounts.findById(account.id))?.email, 'alice@example.org');
    });

    test('refuses a second account with the same email with account_exists', {
      skip: skip ?? false,
    }, async () => {
      await store.accounts.insert(newAccount('dup@example.org'));
      await assert.rejects(
        store.accounts.insert(newAccount('dup@example.org')),
        (e: GatehouseError) => e.code === 'account_exists',
      );
    });

    test('a transaction that fails writes nothing', { skip: skip ?? false }, async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.accounts.insert(newAccount('half@example.org', { groups: ['new-group'] }));
          throw new Error('boom');
        }),
      );
      assert.equal(await store.accounts.findByEmail('half@example.org'), undefined);
      assert.equal(await store.groups.find('new-group'), undefined);
    });

    test('enables MFA once: of parallel callers exactly one wins', { skip: skip ?? false }, async () => {
      const account = newAccount('race@example.org');
      await store.accounts.insert(account);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => store.accounts.enableMfa(account.id, at('2026-02-01T00:00:00Z'))),
      );
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await store.accounts.findById(account.id))?.mfaEnabled, true);
    });

    test('counts every one of parallel failures (no lost updates)', { skip: skip ?? false }, async () => {
      const now = at('2026-03-01T10:00:00Z');
      const windowStart = at('2026-03-01T09:45:00Z');
      await Promise.all(
        Array.from({ length: 20 }, () => store.throttle.countFailure('k:parallel', now, windowStart)),
      );
      assert.equal((await store.throttle.get('k:parallel'))?.failures, 20);
    });

    test('restarts the failure count when the window has passed', { skip: skip ?? false }, async () => {
      await store.throttle.countFailure('k:window', at('2026-03-01T10:00:00Z'), at('2026-03-01T09:45:00Z'));
      await store.throttle.countFailure('k:window', at('2026-03-01T10:01:00Z'), at('2026-03-01T09:46:00Z'));
      const later = await store.throttle.countFailure(
        'k:window',
        at('2026-03-01T11:00:00Z'),
        at('2026-03-01T10:45:00Z'),
      );
      assert.equal(later.failures, 1);
      assert.equal(later.windowStartedAt.toISOString(), '2026-03-01T11:00:00.000Z');
    });

    test('keeps the audit log append-only: updates and deletes are refused', {
      skip: skip ?? false,
    }, async () => {
      await store.audit.append({
        type: 'signin.failed',
        email: 'x@example.org',
        at: at('2026-01-01T00:00:00Z'),
      });
      const raw = database.rawEngine();
      try {
        await assert.rejects(sql`update audit_events set type = 'changed'`.execute(raw.db), /append-only/);
        await assert.rejects(sql`delete from audit_events`.execute(raw.db), /append-only/);
      } finally {
        await raw.destroy();
      }
      const events = await store.audit.list({ email: 'x@example.org', limit: 10 });
      assert.equal(events.length, 1);
      assert.equal(events[0]?.type, 'signin.failed');
    });

    test('removing an account removes its sessions and memberships, not its audit trail', {
      skip: skip ?? false,
    }, async () => {
      const account = newAccount('gone@example.org', { groups: ['g1'] });
      await store.accounts.insert(account);
      const now = at('2026-01-01T00:00:00Z');
      await store.sessions.insert({
        idHash: 'h-gone',
        accountId: account.id,
        stage: 'complete',
        createdAt: now,
        lastSeenAt: now,
        idleExpiresAt: now,
        absoluteExpiresAt: now,
        flash: null,
        factors: ['pwd'],
      });
      await store.audit.append({ type: 'account.added', email: 'gone@example.org', at: now });
      assert.equal(await store.accounts.remove(account.id), true);
      assert.equal(await store.sessions.find('h-gone'), undefined);
      assert.equal(await store.accounts.remove(account.id), false);
      assert.equal((await store.audit.list({ email: 'gone@example.org', limit: 5 })).length, 1);
    });

    test('removes expired sessions and takes a flash message once', { skip: skip ?? false }, async () => {
      const account = newAccount('sess@example.org');
      await store.accounts.insert(account);
      const base = { accountId: account.id, stage: 'complete' as const, flash: null, factors: ['pwd'] };
      const t = (iso: string) => at(iso);
      await store.sessions.insert({
        ...base,
        idHash: 'live',
        createdAt: t('2026-01-01T00:00:00Z'),
        lastSeenAt: t('2026-01-01T00:00:00Z'),
        idleExpiresAt: t('2026-01-01T01:00:00Z'),
        absoluteExpiresAt: t('2026-01-01T12:00:00Z'),
      });
      await store.sessions.insert({
        ...base,
        idHash: 'idle',
        createdAt: t('2026-01-01T00:00:00Z'),
        lastSeenAt: t('2026-01-01T00:00:00Z'),
        idleExpiresAt: t('2026-01-01T00:10:00Z'),
        absoluteExpiresAt: t('2026-01-01T12:00:00Z'),
      });
      assert.equal(await store.sessions.removeExpired(t('2026-01-01T00:30:00Z')), 1);
      assert.ok(await store.sessions.find('live'));
      await store.sessions.setFlash('live', 'hello');
      assert.equal(await store.sessions.takeFlash('live'), 'hello');
      assert.equal(await store.sessions.takeFlash('live'), null);
    });

    test('sets a group exclusion, creating the group when missing', { skip: skip ?? false }, async () => {
      await store.groups.setMfaExclusion('secure care', true, 'Further guidance will be circulated.');
      await store.groups.setMfaExclusion('secure care', true, 'Updated guidance.');
      const group = await store.groups.find('secure care');
      assert.deepEqual(group, {
        name: 'secure care',
        mfaExcluded: true,
        exclusionMessage: 'Updated guidance.',
      });
    });

    test('keeps the first stored secret: later candidates do not replace it', {
      skip: skip ?? false,
    }, async () => {
      const first = await store.secrets.getOrCreate('cookie', 'one');
      const second = await store.secrets.getOrCreate('cookie', 'two');
      assert.equal(first, 'one');
      assert.equal(second, 'one');
    });

    test('opening an up-to-date database again applies nothing and keeps data', {
      skip: skip ?? false,
    }, async () => {
      const again = await database.open();
      try {
        assert.ok(await again.accounts.findByEmail('alice@example.org'));
      } finally {
        await again.close();
      }
    });
  });
}
