import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { portalCookieNames } from '../../src/web/session.ts';
import { manualClock } from '../helpers/clock.ts';
import { consoleUser } from '../helpers/console.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import {
  addUser,
  openTestSession,
  registerCodeApp,
  startTestPortal,
  type TestPortal,
} from '../helpers/portal.ts';

/** The console's pages over HTTP on each engine: bad input is refused with words, and writes nothing. */
for (const engine of ENGINES) {
  describe(`console pages (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let portal: TestPortal;
    let operator: InjectClient;
    const clock = manualClock();
    const user = 'pat.lost@example.org';
    const accountPath = `/admin/accounts/${encodeURIComponent(user)}`;

    before(async () => {
      if (skip) return;
      portal = await startTestPortal({ engine, clock });
      await addUser(portal.core, user, { displayName: 'Pat Lost' });
      await registerCodeApp(portal.core, user, () => clock.now());
      operator = (await consoleUser(portal.core, portal.app, clock, 'desk.operator@example.org', 'operator'))
        .client;
    });
    after(async () => portal?.close());

    const written = async () =>
      (await portal.core.audit.list({ email: user, limit: 1000 })).filter(
        (e) => e.type !== 'console.account_viewed',
      ).length;

    test('find by the start of a name or email; the account page shows what the user has', {
      skip: skip ?? false,
    }, async () => {
      const found = await operator.get('/admin/accounts?q=pat');
      assert.equal(found.statusCode, 200);
      assert.match(found.body, new RegExp(`href="${accountPath.replace(/[.]/g, '\\.')}"`));
      const page = await operator.get(accountPath);
      assert.equal(page.statusCode, 200);
      for (const words of [
        'Pat Lost',
        'Verification codes',
        'Last 50 audit events',
        'totp.registered',
        'Issue pass',
      ])
        assert.ok(page.body.includes(words), words);
    });

    test('a search of 1 MB gets a clear message', { skip: skip ?? false }, async () => {
      const response = await operator.get(`/admin/accounts?q=${'a'.repeat(1024 * 1024)}`);
      assert.equal(response.statusCode, 400);
      assert.match(response.body, /The search is too long/);
    });

    test('an unknown account: a clear 404, nothing written', { skip: skip ?? false }, async () => {
      const path = '/admin/accounts/nobody%40example.org';
      assert.match((await operator.get(path)).body, /There is no account with that email address/);
      const posted = await operator.post(`${path}/disable`, { reason: 'test' }, { formPage: accountPath });
      assert.equal(posted.statusCode, 404);
      assert.match(posted.body, /Nothing was changed/);
    });

    test('a pass lifetime out of range, or no reason: the words beside the form, nothing written', {
      skip: skip ?? false,
    }, async () => {
      const before = await written();
      for (const lifetime of ['5', '481', '9999', 'forever', '']) {
        const response = await operator.post(
          `${accountPath}/temporary-pass`,
          { lifetime, uses: 'one', reason: 'lost phone' },
          { formPage: accountPath },
        );
        assert.equal(response.statusCode, 400, lifetime);
        assert.match(response.body, /Choose a lifetime from 10 minutes to 8 hours/);
      }
      const noReason = await operator.post(
        `${accountPath}/temporary-pass`,
        { lifetime: '60', uses: 'one', reason: ' ' },
        { formPage: accountPath },
      );
      assert.equal(noReason.statusCode, 400);
      assert.match(noReason.body, /Enter the reason for this action/);
      assert.equal(await written(), before);
      const account = await portal.core.accounts.find(user);
      assert.equal(await portal.store.temporaryPasses.find(account?.id ?? ''), undefined);
    });

    test('a pass shown once; the user types it after the password and lands in the wizard only', {
      skip: skip ?? false,
    }, async () => {
      const issued = await operator.post(
        `${accountPath}/temporary-pass`,
        { lifetime: '60', uses: 'one', reason: 'lost phone, call 42' },
        { formPage: accountPath },
      );
      assert.equal(issued.statusCode, 200);
      assert.equal(issued.headers['cache-control'], 'no-store');
      const pass = /id="temporary-pass">([A-Z2-9-]{19})</.exec(issued.body)?.[1];
      assert.ok(pass);
      assert.doesNotMatch((await operator.get(accountPath)).body, new RegExp(pass), 'never shown again');
      const event = (await portal.core.audit.list({ email: user, limit: 5 })).find(
        (e) => e.type === 'temporary_pass.issued',
      );
      assert.equal(event?.actor, 'desk.operator@example.org');
      assert.equal(event?.detail.reason, 'lost phone, call 42');

      const pc = new InjectClient(portal.app);
      const account = await portal.core.accounts.find(user);
      assert.ok(account);
      pc.cookies.set(
        portalCookieNames(false).session,
        await openTestSession(portal.store, account, 'verify_mfa'),
      );
      assert.match((await pc.get('/mfa/verify/code')).body, /I lost my phone: use a Temporary Access Pass/);
      const wrong = await pc.post('/mfa/verify/pass', { pass: 'AAAA-BBBB-CCCC-DDDD' });
      assert.equal(wrong.statusCode, 401);
      assert.match(wrong.body, /The Temporary Access Pass is not correct/);
      const used = await pc.post('/mfa/verify/pass', { pass });
      assert.equal(used.statusCode, 303);
      assert.equal(used.headers.location, '/mfa/register');
      assert.equal((await pc.get('/profile')).headers.location, '/mfa/register', 'no portal page');
      assert.equal((await pc.get('/mfa/register/start')).statusCode, 200);
    });

    test('disable ends the sessions at once and shows on the page; re-enable', {
      skip: skip ?? false,
    }, async () => {
      const pc = new InjectClient(portal.app);
      const account = await portal.core.accounts.find(user);
      assert.ok(account);
      pc.cookies.set(
        portalCookieNames(false).session,
        await openTestSession(portal.store, account, 'complete'),
      );
      assert.equal((await pc.get('/profile')).statusCode, 200);
      const disabled = await operator.post(
        `${accountPath}/disable`,
        { reason: 'suspected compromise' },
        { formPage: accountPath },
      );
      assert.equal(disabled.statusCode, 200);
      assert.match(disabled.body, /The account was disabled/);
      assert.equal((await pc.get('/profile')).headers.location, '/signin');
      const enabled = await operator.post(
        `${accountPath}/enable`,
        { reason: 'cleared' },
        { formPage: accountPath },
      );
      assert.match(enabled.body, /The account was re-enabled/);
      const types = (await portal.core.audit.list({ email: user, limit: 10 })).map((e) => e.type);
      assert.ok(
        types.includes('account.disabled') &&
          types.includes('account.enabled') &&
          types.includes('session.ended_everywhere'),
      );
    });

    test('an operator signed in with the password only proves MFA before the console', {
      skip: skip ?? false,
    }, async () => {
      const account = await portal.core.accounts.find('desk.operator@example.org');
      assert.ok(account);
      const client = new InjectClient(portal.app);
      client.cookies.set(
        portalCookieNames(false).session,
        await openTestSession(portal.store, account, 'complete'),
      );
      const response = await client.get('/admin/accounts');
      assert.equal(response.statusCode, 303);
      assert.equal(response.headers.location, '/mfa/verify');
    });
  });
}
