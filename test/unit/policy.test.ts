import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GatehouseError } from '../../src/core/errors.ts';
import type { Account } from '../../src/core/model.ts';
import { argon2idHasher } from '../../src/core/passwords/hasher.ts';
import { checkNewPassword } from '../../src/core/passwords/password-policy.ts';
import { mfaEligibility } from '../../src/core/policy/mfa-eligibility.ts';

const account = (extra: Partial<Account> = {}): Account => ({
  id: 'a1',
  email: 'pat@example.org',
  displayName: 'Pat',
  passwordHash: '',
  sharedMailbox: false,
  mfaEnabled: false,
  mfaEnabledAt: null,
  createdAt: new Date(0),
  groups: [],
  ...extra,
});

const refusesWith = (password: string, expected: string) =>
  assert.throws(
    () => checkNewPassword(password, 'pat@example.org'),
    (e: GatehouseError) => e.code === expected,
  );

test('refuses passwords shorter than 8 characters, counting characters not bytes', () => {
  refusesWith('Ab1-xyz', 'password_too_short');
  assert.doesNotThrow(() => checkNewPassword('Ünïcødé€', 'pat@example.org'));
});

test('refuses passwords longer than 256 characters', () => refusesWith('x'.repeat(257), 'password_too_long'));

test('refuses common passwords whatever their case', () => {
  refusesWith('password', 'password_too_common');
  refusesWith('Password1', 'password_too_common');
  refusesWith('QWERTY123', 'password_too_common');
});

test('refuses the email address or its local part as the password', () => {
  refusesWith('pat@example.org', 'password_matches_email');
  assert.throws(
    () => checkNewPassword('patricia', 'patricia@example.org'),
    (e: GatehouseError) => ['password_matches_email', 'password_too_common'].includes(e.code),
  );
});

test('accepts a long uncommon passphrase', () =>
  assert.doesNotThrow(() => checkNewPassword('Blue-Harbour-42', 'pat@example.org')));

test('a shared mailbox may not enrol', () => {
  assert.deepEqual(mfaEligibility(account({ sharedMailbox: true }), []), {
    allowed: false,
    reason: 'shared_mailbox',
  });
});

test('a member of an excluded group may not enrol, and gets the group message', () => {
  const decision = mfaEligibility(account({ groups: ['ward 7', 'secure care'] }), [
    { name: 'ward 7', mfaExcluded: false, exclusionMessage: null },
    { name: 'secure care', mfaExcluded: true, exclusionMessage: 'Further guidance will be circulated.' },
  ]);
  assert.deepEqual(decision, {
    allowed: false,
    reason: 'excluded_group',
    group: 'secure care',
    message: 'Further guidance will be circulated.',
  });
});

test('an excluded group only matters to its members', () => {
  const decision = mfaEligibility(account({ groups: ['ward 7'] }), [
    { name: 'secure care', mfaExcluded: true, exclusionMessage: 'x' },
  ]);
  assert.deepEqual(decision, { allowed: true });
});

test('hashes with argon2id at OWASP parameters and flags older parameters for rehash', async () => {
  const hasher = argon2idHasher();
  const hash = await hasher.hash('Blue-Harbour-42');
  assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(await hasher.verify(hash, 'Blue-Harbour-42'), true);
  assert.equal(await hasher.verify(hash, 'blue-harbour-42'), false);
  assert.equal(await hasher.verify('not-a-hash', 'x'), false);
  assert.equal(hasher.needsRehash(hash), false);
  const weaker = await argon2idHasher({ memoryKiB: 4096, iterations: 1, parallelism: 1 }).hash('x');
  assert.equal(hasher.needsRehash(weaker), true);
});
