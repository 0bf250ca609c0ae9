import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { type Core, createCore, defaultCoreSettings, type GatehouseError } from '../../src/core/index.ts';
import { codeAt, matchingStep } from '../../src/core/methods/totp/totp-codes.ts';
import type { Account } from '../../src/core/model.ts';
import type { Store } from '../../src/core/store.ts';
import { manualClock } from '../helpers/clock.ts';
import { type TestDatabase, testDatabase } from '../helpers/engines.ts';
import { addUser, registerCodeApp, TEST_SECRETS } from '../helpers/portal.ts';

const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'; // "12345678901234567890"

test('RFC 6238 test vectors (SHA-1), as 6-digit codes', () => {
  const vectors: [number, string][] = [
    [59, '287082'],
    [1111111109, '081804'],
    [1111111111, '050471'],
    [1234567890, '005924'],
    [2000000000, '279037'],
    [20000000000, '353130'],
  ];
  for (const [seconds, code] of vectors)
    assert.equal(codeAt(RFC_SECRET, new Date(seconds * 1000)), code, `T=${seconds}`);
});

test('accepts a code one step either side, and no further', () => {
  const at = new Date(1_700_000_000_000);
  const step = Math.floor(at.getTime() / 30_000);
  const code = (offset: number) => codeAt(RFC_SECRET, new Date(at.getTime() + offset * 30_000));
  assert.equal(matchingStep(RFC_SECRET, code(0), at), step);
  assert.equal(matchingStep(RFC_SECRET, code(-1), at), step - 1);
  assert.equal(matchingStep(RFC_SECRET, code(1), at), step + 1);
  assert.equal(matchingStep(RFC_SECRET, code(-2), at), null);
  assert.equal(matchingStep(RFC_SECRET, code(2), at), null);
  assert.equal(matchingStep(RFC_SECRET, 'abcdef', at), null);
  assert.equal(matchingStep(RFC_SECRET, '1234567', at), null);
});

const oathtool = (secret: string, at: Date) =>
  execFileSync('oathtool', ['--totp', '-b', secret, '--now', `@${Math.floor(at.getTime() / 1000)}`], {
    encoding: 'utf8',
  }).trim();

describe('verification codes on an account', () => {
  let database: TestDatabase;
  let store: Store;
  let core: Core;
  let account: Account;
  let secret = '';
  const clock = manualClock('2026-06-01T09:00:00Z');

  before(async () => {
    database = testDatabase('sqlite');
    store = await database.open();
    core = createCore({ store, clock, secrets: TEST_SECRETS, settings: defaultCoreSettings });
    account = await addUser(core, 'codes@example.org');
    const setup = await registerCodeApp(core, account.email, () => clock.now());
    secret = setup.secret;
    assert.match(setup.uri, /^otpauth:\/\/totp\/Gatehouse%20Test:codes%40example\.org\?/);
  });
  after(async () => {
    await store.close();
    await database.drop();
  });

  const refusedWith = (code: string) => (e: GatehouseError) => e.code === code;

  test('accepts a code made by oathtool', async () => {
    clock.advanceMinutes(1);
    await core.totp.verifyCode(account, oathtool(secret, clock.now()), '192.0.2.1');
  });

  test('refuses a code used before (replay), and an older one after a newer was used', async () => {
    clock.advanceMinutes(1);
    const older = oathtool(secret, new Date(clock.now().getTime() - 30_000));
    const current = oathtool(secret, clock.now());
    await core.totp.verifyCode(account, current, '192.0.2.1');
    await assert.rejects(core.totp.verifyCode(account, current, '192.0.2.1'), refusedWith('invalid_code'));
    await assert.rejects(core.totp.verifyCode(account, older, '192.0.2.1'), refusedWith('invalid_code'));
  });

  test('of parallel uses of one code exactly one is accepted', async () => {
    clock.advanceMinutes(1);
    const code = oathtool(secret, clock.now());
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => core.totp.verifyCode(account, code, '192.0.2.1')),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  });

  test('throttles wrong codes, then refuses even a right one until the lock ends', async () => {
    clock.advanceMinutes(16); // past the window of the failures counted by the tests above
    for (let i = 0; i < 4; i++) {
      await assert.rejects(core.totp.verifyCode(account, '000000', '192.0.2.1'), refusedWith('invalid_code'));
    }
    await assert.rejects(
      core.totp.verifyCode(account, '000000', '192.0.2.1'),
      refusedWith('too_many_attempts'),
    );
    await assert.rejects(
      core.totp.verifyCode(account, oathtool(secret, clock.now()), '192.0.2.1'),
      refusedWith('too_many_attempts'),
    );
    clock.advanceMinutes(16);
    await core.totp.verifyCode(account, oathtool(secret, clock.now()), '192.0.2.1');
  });

  test('keeps the key encrypted at rest', async () => {
    const raw = database.rawEngine();
    try {
      const { rows } = await sql<{ data: string }>`select data from mfa_methods`.execute(raw.db);
      assert.ok(rows.length > 0);
      for (const row of rows) {
        assert.ok(!row.data.includes(secret), 'the base32 key is not stored');
        assert.match(row.data, /"totpSecret":"v1\./);
      }
    } finally {
      await raw.destroy();
    }
  });
});
