import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Core, createCore, defaultCoreSettings, type GatehouseError } from '../../src/core/index.ts';
import { argon2idHasher } from '../../src/core/passwords/hasher.ts';
import type { Store } from '../../src/core/store.ts';
import { manualClock } from '../helpers/clock.ts';
import { type TestDatabase, testDatabase } from '../helpers/engines.ts';
import { addUser, TEST_PASSWORD, TEST_SECRETS } from '../helpers/portal.ts';

const FROM = '192.0.2.10';

describe('password sign-in', () => {
  let database: TestDatabase;
  let store: Store;
  let core: Core;
  const clock = manualClock();

  before(async () => {
    database = testDatabase('sqlite');
    store = await database.open();
    core = createCore({
      store,
      clock,
      secrets: TEST_SECRETS,
      settings: {
        ...defaultCoreSettings,
        accountLockout: { maxFailures: 3, windowMinutes: 15, lockMinutes: 10 },
        clientLockout: { maxFailures: 6, windowMinutes: 15, lockMinutes: 10 },
      },
    });
    await addUser(core, 'alice@example.org');
    await addUser(core, 'enrolled@example.org');
  });
  after(async () => {
    await store.close();
    await database.drop();
  });

  const code = (expected: string) => (e: GatehouseError) => e.code === expected;

  test('signs in with the right password and records it in the audit log', async () => {
    const result = await core.flow.signIn({
      email: 'alice@example.org',
      password: TEST_PASSWORD,
      clientAddress: FROM,
    });
    assert.equal(result.stage, 'complete');
    assert.ok(result.token.length >= 43);
    const resumed = await core.sessions.resume(result.token, FROM);
    assert.equal(resumed?.account.email, 'alice@example.org');
    const [event] = await core.audit.list({ email: 'alice@example.org', limit: 1 });
    assert.equal(event?.type, 'signin.succeeded');
    assert.equal(event?.clientAddress, FROM);
  });

  test('gives the same error for a wrong password and an unknown account', async () => {
    await assert.rejects(
      core.flow.signIn({
        email: 'alice@example.org',
        password: 'wrong-password',
        clientAddress: '192.0.2.99',
      }),
      code('invalid_credentials'),
    );
    await assert.rejects(
      core.flow.signIn({
        email: 'nobody@example.org',
        password: 'wrong-password',
        clientAddress: '192.0.2.99',
      }),
      code('invalid_credentials'),
    );
  });

  test('locks an address after repeated failures, even for the right password, then unlocks', async () => {
    const email = 'alice@example.org';
    clock.advanceMinutes(60);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        core.flow.signIn({ email, password: 'nope-nope', clientAddress: FROM }),
        code('invalid_credentials'),
      );
    }
    await assert.rejects(
      core.flow.signIn({ email, password: 'nope-nope', clientAddress: FROM }),
      code('account_locked'),
    );
    await assert.rejects(
      core.flow.signIn({ email, password: TEST_PASSWORD, clientAddress: FROM }),
      code('account_locked'),
    );
    const types = (await core.audit.list({ email, limit: 10 })).map((e) => e.type);
    assert.ok(types.includes('signin.locked'));
    clock.advanceMinutes(11);
    const result = await core.flow.signIn({ email, password: TEST_PASSWORD, clientAddress: FROM });
    assert.equal(result.account.email, email);
  });

  test('locks unknown addresses the same way, so a lockout reveals nothing', async () => {
    const email = 'ghost@example.org';
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        core.flow.signIn({ email, password: 'x-x-x-x-x', clientAddress: '192.0.2.50' }),
        code('invalid_credentials'),
      );
    }
    await assert.rejects(
      core.flow.signIn({ email, password: 'x-x-x-x-x', clientAddress: '192.0.2.50' }),
      code('account_locked'),
    );
  });

  test('throttles one client address that tries many accounts (password spraying)', async () => {
    clock.advanceMinutes(60);
    const client = '198.51.100.7';
    for (let i = 0; i < 6; i++) {
      await assert.rejects(
        core.flow.signIn({ email: `spray${i}@example.org`, password: 'Summer2026!', clientAddress: client }),
        code('invalid_credentials'),
      );
    }
    await assert.rejects(
      core.flow.signIn({ email: 'alice@example.org', password: TEST_PASSWORD, clientAddress: client }),
      code('client_throttled'),
    );
  });

  test('an MFA-enabled account with no method goes to registration, not the portal', async () => {
    clock.advanceMinutes(60);
    const account = await core.accounts.find('enrolled@example.org');
    await core.enrolment.enable(account!, FROM);
    const result = await core.flow.signIn({
      email: 'enrolled@example.org',
      password: TEST_PASSWORD,
      clientAddress: FROM,
    });
    assert.equal(result.stage, 'register_mfa');
  });

  test('expires a session after the idle time and after the absolute time', async () => {
    clock.advanceMinutes(60);
    const { token } = await core.flow.signIn({
      email: 'alice@example.org',
      password: TEST_PASSWORD,
      clientAddress: FROM,
    });
    clock.advanceMinutes(29);
    assert.ok(await core.sessions.resume(token, FROM), 'alive before the idle limit');
    clock.advanceMinutes(29);
    assert.ok(await core.sessions.resume(token, FROM), 'activity extends the idle limit');
    clock.advanceMinutes(31);
    assert.equal(await core.sessions.resume(token, FROM), undefined, 'idle for 31 minutes');

    const second = await core.flow.signIn({
      email: 'alice@example.org',
      password: TEST_PASSWORD,
      clientAddress: FROM,
    });
    // Active every 25 minutes for 11 h 40 min: still alive; at 12 h 5 min: gone.
    for (let i = 0; i < 28; i++) {
      clock.advanceMinutes(25);
      assert.ok(await core.sessions.resume(second.token, FROM));
    }
    clock.advanceMinutes(25);
    assert.equal(await core.sessions.resume(second.token, FROM), undefined, 'past 12 hours even when active');
  });

  test('signing out ends the session', async () => {
    const { token } = await core.flow.signIn({
      email: 'alice@example.org',
      password: TEST_PASSWORD,
      clientAddress: FROM,
    });
    await core.sessions.signOut(token, FROM);
    assert.equal(await core.sessions.resume(token, FROM), undefined);
  });

  test('upgrades a hash made with weaker parameters at the next sign-in', async () => {
    const weak = argon2idHasher({ memoryKiB: 8192, iterations: 1, parallelism: 1 });
    const account = await core.accounts.find('alice@example.org');
    await store.accounts.updatePasswordHash(account!.id, await weak.hash(TEST_PASSWORD));
    await core.flow.signIn({ email: 'alice@example.org', password: TEST_PASSWORD, clientAddress: FROM });
    const upgraded = await core.accounts.find('alice@example.org');
    assert.match(upgraded!.passwordHash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    const types = (await core.audit.list({ email: 'alice@example.org', limit: 3 })).map((e) => e.type);
    assert.ok(types.includes('account.password_rehashed'));
  });
});
