import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { eventually } from '../helpers/eventually.ts';
import { csrfTokenIn, InjectClient } from '../helpers/inject-client.ts';
import { addUser, TEST_PASSWORD } from '../helpers/portal.ts';
import { overHttp, portalProcess, requestsSent } from '../helpers/portal-process.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { type PrivatePostgres, privatePostgres } from '../helpers/private-postgres.ts';
import { activationCodeOn, numberOn } from '../helpers/push-journeys.ts';
import { withCoreOf } from '../helpers/restored.ts';
import { TestDevice } from '../helpers/test-device.ts';

/**
 * kill -9 of the real server process at every step of the registration wizard: the step's request
 * is sent to a frozen process (SIGSTOP: it reached the socket, nothing handled it), the process is
 * killed, started again on the same data, and the same step is then completed. Each kill also
 * falls after the previous step answered, so both "in the step" and "between steps" are covered.
 */

async function wizardSurvivesKills(env: Record<string, string>) {
  const email = `kill-${Math.random().toString(36).slice(2, 8)}@example.org`;
  await withCoreOf(env, async (core) => {
    const account = await addUser(core, email);
    await core.enrolment.enable(account, '192.0.2.1');
  });
  const server = portalProcess(await freeTcpPort(), env);
  await server.start();
  try {
    const pc = new InjectClient(overHttp(server.url));
    const phone = await TestDevice.create(overHttp(server.url));

    /** Sends the step to the frozen process, kills it -9, starts it again on the same data. */
    const killedDuring = async (step: string, send: () => Promise<unknown>) => {
      server.freeze();
      const before = requestsSent();
      const attempt = send().then(
        () => 'answered',
        () => 'cut',
      );
      await eventually(`the request of "${step}" was sent`, () => requestsSent() > before);
      await server.kill();
      assert.equal(await attempt, 'cut', `${step}: the killed process never answered`);
      await server.start();
    };
    const formOn = async (path: string) => csrfTokenIn((await pc.get(path)).body);

    // 1. The password.
    let csrf = await formOn('/signin');
    await killedDuring('the password', () =>
      pc.post('/signin', { email, password: TEST_PASSWORD, _csrf: csrf }),
    );
    csrf = await formOn('/signin');
    const signedIn = await pc.post('/signin', { email, password: TEST_PASSWORD, _csrf: csrf });
    assert.equal(signedIn.headers.location, '/mfa/register', server.stderr());

    // 2. Next on the app page: the activation is made.
    csrf = await formOn('/mfa/register/app');
    await killedDuring('Next on the app page', () => pc.post('/mfa/register/activation', { _csrf: csrf }));
    csrf = await formOn('/mfa/register/app');
    assert.equal(
      (await pc.post('/mfa/register/activation', { _csrf: csrf })).headers.location,
      '/mfa/register/scan',
    );

    // 3. The phone scans the QR code.
    const code = activationCodeOn((await pc.get('/mfa/register/scan')).body);
    assert.ok(code, 'the scan page shows the activation link');
    await killedDuring('the phone activating', () => phone.activate(code));
    const activated = await phone.activate(code);
    assert.equal(activated.statusCode, 200, activated.body);

    // 4. Next on the scan page: the app has activated, so it leads to the number.
    // (The page itself now redirects there: the token comes from another page of the session.)
    csrf = await formOn('/mfa/register/app');
    await killedDuring('Next after scanning', () => pc.post('/mfa/register/scan', { _csrf: csrf }));
    csrf = await formOn('/mfa/register/app');
    assert.equal(
      (await pc.post('/mfa/register/scan', { _csrf: csrf })).headers.location,
      '/mfa/register/number',
    );

    // 5. The phone approves with the number.
    const number = numberOn((await pc.get('/mfa/register/number')).body);
    const [requestId] = await phone.pendingIds();
    assert.ok(number && requestId);
    await killedDuring('the phone approving', () => phone.answer(requestId, 'approve', number));
    assert.equal((await phone.answer(requestId, 'approve', number)).json().status, 'approved');

    // 6. Next after "Notification approved".
    csrf = await formOn('/mfa/register/number');
    await killedDuring('Next after approval', () => pc.post('/mfa/register/finish', { _csrf: csrf }));
    csrf = await formOn('/mfa/register/number');
    assert.equal(
      (await pc.post('/mfa/register/finish', { _csrf: csrf })).headers.location,
      '/mfa/register/app-password',
    );

    // 7. The app password's name; the key password is shown.
    csrf = await formOn('/mfa/register/app-password');
    const name = { name: 'Mail on my laptop' };
    await killedDuring('naming the app password', () =>
      pc.post('/mfa/register/app-password', { ...name, _csrf: csrf }),
    );
    csrf = await formOn('/mfa/register/app-password');
    const created = await pc.post('/mfa/register/app-password', { ...name, _csrf: csrf });
    assert.equal(created.statusCode, 200, created.body.slice(0, 500));
    const key = /([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})/.exec(created.body)?.[1];
    assert.ok(key, 'the key password is shown once');

    // 8. Done: the confirmation.
    await killedDuring('Done', () => pc.get('/mfa/register/finished'));
    assert.match(
      (await pc.get('/mfa/register/finished')).body,
      /Congratulations, you have successfully set up MFA!/,
    );

    await server.kill();
    await withCoreOf(env, async (core, store) => {
      const account = await core.legacySignIn({
        email,
        password: key,
        protocol: 'ldap',
        clientAddress: '192.0.2.9',
      });
      assert.equal(account.email, email, 'the app password made after the kills works');
      const methods = await store.methods.listForAccount(account.id);
      assert.deepEqual(
        methods.map((m) => [m.kind, m.status]),
        [['authenticator_app', 'active']],
        'one app, active: nothing left half-made by the kills',
      );
    });
  } finally {
    await server.kill();
  }
}

describe('kill -9 of Gatehouse at every step of the registration wizard', () => {
  test('SQLite: the same step completes after a restart on the same data folder', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-kill-'));
    try {
      await wizardSurvivesKills({ GATEHOUSE_DATA_DIR: dataDir });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  let postgres: PrivatePostgres | undefined;
  after(() => postgres?.destroy());
  test('PostgreSQL: the same step completes after a restart on the same database', async () => {
    postgres = await privatePostgres();
    await wizardSurvivesKills({
      GATEHOUSE_DATABASE_URL: postgres.url,
      GATEHOUSE_SECRETS_KEY: Buffer.alloc(32, 9).toString('base64'),
    });
  });
});
