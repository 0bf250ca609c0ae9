import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { postgresUnavailable, type TestDatabase, testDatabase } from '../helpers/engines.ts';
import { startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';

describe('two Gatehouse instances on one PostgreSQL database', async () => {
  const skip = await postgresUnavailable();
  let database: TestDatabase;
  let first: TestPortal;
  let second: TestPortal;

  before(async () => {
    if (skip) return;
    database = testDatabase('postgres');
    first = await startTestPortal({ database });
    second = await startTestPortal({ database });
  });
  after(async () => {
    if (skip) return;
    await first.close();
    await second.close();
    await database.drop();
  });

  test('a request started on one instance is approved through the other', {
    skip: skip ?? false,
  }, async () => {
    const flows = pushJourneys({
      core: first.core,
      pcApp: first.app,
      phoneApp: second.app,
      clock: systemClock,
    });
    const { email, phone } = await flows.registered();
    const { pc, number } = await flows.pcAtVerification(email);
    const [requestId] = await phone.pendingIds();
    assert.equal((await phone.answer(requestId!, 'approve', number)).json().status, 'approved');
    assert.equal(
      (await pc.get('/mfa/verify/status')).json().status,
      'approved',
      'the first instance sees it',
    );
    assert.equal((await pc.get('/')).statusCode, 200, 'the PC, on the first instance, is signed in');
  });
});

describe('a restart between the halves loses nothing', () => {
  let database: TestDatabase;

  before(() => {
    database = testDatabase('sqlite');
  });
  after(() => database.drop());

  test('registration and sign-in continue on a restarted server', async () => {
    const before = await startTestPortal({ database });
    const flows = pushJourneys({ core: before.core, pcApp: before.app, clock: systemClock });
    const { email, phone } = await flows.registered();
    const { pc, number } = await flows.pcAtVerification(email);
    const [requestId] = await phone.pendingIds();
    await before.close();

    const after = await startTestPortal({ database });
    try {
      // The same browser and phone, now talking to the new process.
      pc.retarget(after.app);
      phone.retarget(after.app);
      assert.deepEqual(await phone.pendingIds(), [requestId]);
      assert.equal((await phone.answer(requestId!, 'approve', number)).json().status, 'approved');
      assert.equal((await pc.get('/mfa/verify/status')).json().status, 'approved');
      assert.equal((await pc.get('/')).statusCode, 200);
    } finally {
      await after.close();
    }
  });
});
