import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEventInput } from '../../src/core/model.ts';
import { signInStepOf, telephonyOutcomeOf } from '../../src/core/monitoring/sign-in-outcomes.ts';

const step = (type: AuditEventInput['type'], detail?: Record<string, unknown>) =>
  signInStepOf({ type, ...(detail ? { detail } : {}) });

test('each second factor is counted under its own method', () => {
  assert.deepEqual(step('mfa.verified', { challenge: 'push:r1', factors: ['pwd', 'swk'] }), {
    method: 'push',
    outcome: 'success',
  });
  assert.deepEqual(step('mfa.verified', { challenge: 'totp:m1', factors: ['pwd', 'otp'] }), {
    method: 'code',
    outcome: 'success',
  });
  assert.deepEqual(step('mfa.verified', { challenge: 'phone:c1', factors: ['pwd', 'tel'] }), {
    method: 'phone_call',
    outcome: 'success',
  });
  assert.deepEqual(step('mfa.verified', { challenge: 'phone:c2', factors: ['pwd', 'sms'] }), {
    method: 'text',
    outcome: 'success',
  });
  // A platform passkey proves swk as the app does: its challenge names it.
  assert.deepEqual(
    step('mfa.verified', { challenge: 'passkey:m2', factors: ['pwd', 'swk', 'user', 'phr'] }),
    {
      method: 'passkey',
      outcome: 'success',
    },
  );
  // A proof the counter does not know is not counted under a wrong name.
  assert.equal(step('mfa.verified', { challenge: 'other:x' }), undefined);
});

test('refusals, denials and reports are told apart', () => {
  assert.deepEqual(step('push.denied'), { method: 'push', outcome: 'denied' });
  assert.deepEqual(step('push.wrong_number'), { method: 'push', outcome: 'failure' });
  assert.deepEqual(step('push.reported'), { method: 'push', outcome: 'reported' });
  assert.deepEqual(step('totp.rejected'), { method: 'code', outcome: 'failure' });
  assert.deepEqual(step('phone.failed', { reason: 'wrong_code' }), { method: 'text', outcome: 'failure' });
  assert.deepEqual(step('phone.failed', { status: 'no-answer' }), {
    method: 'phone_call',
    outcome: 'failure',
  });
  assert.deepEqual(step('smartcard.refused'), { method: 'smartcard', outcome: 'failure' });
  assert.deepEqual(step('smartcard.signed_in'), { method: 'smartcard', outcome: 'success' });
  assert.deepEqual(step('passkey.refused', { purpose: 'sign_in', reason: 'passkey_cloned' }), {
    method: 'passkey',
    outcome: 'failure',
  });
  assert.equal(
    step('passkey.refused', { purpose: 'registration' }),
    undefined,
    'adding one is not a sign-in',
  );
  assert.deepEqual(step('signin.failed', { reason: 'locked' }), { method: 'password', outcome: 'locked' });
});

test('legacy clients: app passwords, and the account password before MFA or with push', () => {
  assert.deepEqual(step('app_password.used'), { method: 'app_password', outcome: 'success' });
  assert.deepEqual(step('app_password.rejected'), { method: 'app_password', outcome: 'failure' });
  assert.deepEqual(step('legacy.password_refused'), { method: 'legacy_password', outcome: 'denied' });
  assert.deepEqual(step('legacy.signed_in', { credential: 'password' }), {
    method: 'legacy_password',
    outcome: 'success',
  });
  assert.deepEqual(step('legacy.signed_in', { credential: 'password_and_push' }), {
    method: 'password_and_push',
    outcome: 'success',
  });
  assert.deepEqual(step('signin.failed', { protocol: 'ldap', reason: 'wrong_password' }), {
    method: 'legacy_password',
    outcome: 'failure',
  });
  // Not sign-in steps at all.
  assert.equal(step('account.added'), undefined);
  assert.equal(step('push.sent'), undefined);
});

test('calls and texts: sent, failed at the provider, refused by a limit', () => {
  assert.deepEqual(telephonyOutcomeOf({ type: 'phone.call_placed' }), { channel: 'call', outcome: 'sent' });
  assert.deepEqual(telephonyOutcomeOf({ type: 'phone.text_sent' }), { channel: 'text', outcome: 'sent' });
  assert.deepEqual(
    telephonyOutcomeOf({ type: 'phone.failed', detail: { channel: 'sms', reason: 'provider' } }),
    { channel: 'text', outcome: 'failed' },
  );
  assert.equal(telephonyOutcomeOf({ type: 'phone.failed', detail: { reason: 'wrong_code' } }), undefined);
  assert.deepEqual(telephonyOutcomeOf({ type: 'phone.refused', detail: { reason: 'limit' } }), {
    channel: 'any',
    outcome: 'refused',
  });
});
