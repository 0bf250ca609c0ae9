import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sweepExpired } from '../../src/core/housekeeping.ts';
import { manualClock } from '../helpers/clock.ts';
import { addUser, startTestPortal, TEST_PASSWORD } from '../helpers/portal.ts';

test('sweeps expired sessions and OpenID records, keeping live ones', async () => {
  const clock = manualClock();
  const portal = await startTestPortal({ clock });
  try {
    await addUser(portal.core, 'sweep@example.org');
    const { token } = await portal.core.flow.signIn({
      email: 'sweep@example.org',
      password: TEST_PASSWORD,
      clientAddress: '192.0.2.1',
    });
    await portal.store.oidcModels.upsert('AccessToken', 'short', {
      payload: {},
      expiresAt: new Date(clock.now().getTime() + 60_000),
    });
    await portal.store.oidcModels.upsert('Grant', 'long', {
      payload: {},
      expiresAt: new Date(clock.now().getTime() + 86_400_000),
    });
    assert.deepEqual(await sweepExpired(portal.store, clock)(), {
      sessions: 0,
      oidc: 0,
      certificateTickets: 0,
      passwordResets: 0,
      passkeyChallenges: 0,
    });
    clock.advanceMinutes(31);
    assert.deepEqual(await sweepExpired(portal.store, clock)(), {
      sessions: 1,
      oidc: 1,
      certificateTickets: 0,
      passwordResets: 0,
      passkeyChallenges: 0,
    });
    assert.equal(await portal.core.sessions.resume(token, '192.0.2.1'), undefined);
    assert.ok(await portal.store.oidcModels.find('Grant', 'long'));
  } finally {
    await portal.close();
  }
});
