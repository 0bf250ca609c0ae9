import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../helpers/clock.ts';
import { allRoutes, consoleUser } from '../helpers/console.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import { csrfTokenIn, InjectClient } from '../helpers/inject-client.ts';
import { addUser, startTestPortal, type TestPortal } from '../helpers/portal.ts';

/**
 * Every /admin route, enumerated from the app itself (a route added later is checked too):
 * 404 for anyone without a console role, 403 for an auditor's change, the portal's CSRF token
 * required, and a step-up when the operator's MFA is older than 15 minutes.
 */
for (const engine of ENGINES) {
  describe(`console authorisation (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let portal: TestPortal;
    const clock = manualClock();
    const target = 'target.user@example.org';
    let adminRoutes: { path: string; method: string; url: string }[] = [];
    /** An application the routes act on (rotate, remove), so that each reaches its handler's checks. */
    let clientId = '';
    const applicationUnchanged = async () => {
      const application = await portal.core.applications.find(clientId);
      assert.ok(application, 'the application is still there');
      assert.equal(application.secretRotatedAt, null, 'its secret was not rotated');
    };

    before(async () => {
      if (skip) return;
      portal = await startTestPortal({ engine, clock });
      await addUser(portal.core, target);
      clientId = (
        await portal.core.applications.add(
          {
            name: 'Routes',
            redirectUris: ['https://routes.example.org/cb'],
            postLogoutRedirectUris: [],
            confidential: true,
            requireMfa: false,
          },
          'test',
        )
      ).application.clientId;
      adminRoutes = allRoutes(portal.app)
        .filter((r) => r.path === '/admin' || r.path.startsWith('/admin/'))
        .flatMap((r) =>
          r.methods
            .filter((m) => m !== 'HEAD')
            .map((method) => ({
              path: r.path,
              method,
              url: r.path
                .replace(':email', encodeURIComponent(target))
                .replace(':clientId', clientId)
                .replace(/:(\w+)/g, 'x$1'),
            })),
        );
    });
    after(async () => portal?.close());

    const send = (client: InjectClient, route: { method: string; url: string }, token?: string) =>
      route.method === 'GET'
        ? client.get(route.url)
        : client.send({
            method: 'POST',
            url: route.url,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            payload: new URLSearchParams({
              ...(token ? { _csrf: token } : {}),
              reason: 'authorisation test',
              lifetime: '60',
              name: 'Sneaked in',
              'redirect-uris': 'https://sneaked.example.org/cb',
            }).toString(),
          });

    /** A CSRF token of the client's own, from a portal page that has a form. */
    const tokenOf = async (client: InjectClient) =>
      csrfTokenIn((await client.get('/profile/security-info')).body);

    test('the enumeration finds the console routes, GET and POST', { skip: skip ?? false }, () => {
      const paths = adminRoutes.map((r) => `${r.method} ${r.path}`);
      for (const expected of [
        'GET /admin',
        'GET /admin/accounts',
        'GET /admin/accounts/:email',
        'POST /admin/accounts/:email/temporary-pass',
        'POST /admin/accounts/:email/temporary-pass/revoke',
        'POST /admin/accounts/:email/reset-mfa',
        'POST /admin/accounts/:email/disable',
        'GET /admin/audit',
        'GET /admin/audit.csv',
        'GET /admin/reports',
        'GET /admin/reports/registration',
        'GET /admin/reports/registration.csv',
        'GET /admin/reports/activity',
        'GET /admin/reports/activity.csv',
        'GET /admin/applications',
        'GET /admin/applications/new',
        'POST /admin/applications/new',
        'GET /admin/applications/:clientId',
        'POST /admin/applications/:clientId/rotate-secret',
        'GET /admin/applications/:clientId/remove',
        'POST /admin/applications/:clientId/remove',
      ])
        assert.ok(paths.includes(expected), `${expected} in ${paths.join(', ')}`);
    });

    test('no session and a user without a role get 404 on every route', { skip: skip ?? false }, async () => {
      const { client: user } = await consoleUser(portal.core, portal.app, clock, 'plain.user@example.org');
      const token = await tokenOf(user);
      const before = (await portal.core.audit.list({ email: target, limit: 1000 })).length;
      for (const route of adminRoutes) {
        const anonymous = await send(new InjectClient(portal.app), route);
        assert.equal(anonymous.statusCode, 404, `${route.method} ${route.path} without a session`);
        assert.match(anonymous.body, /Page not found/);
        const signedIn = await send(user, route, token);
        assert.equal(signedIn.statusCode, 404, `${route.method} ${route.path} for a user`);
        assert.doesNotMatch(signedIn.body, /console/i);
      }
      assert.equal(
        (await portal.core.audit.list({ email: target, limit: 1000 })).length,
        before,
        'nothing done',
      );
      await applicationUnchanged();
      assert.ok(!(await portal.core.applications.list()).some((a) => a.name === 'Sneaked in'));
    });

    test('an auditor reads, and every change is refused (403), nothing written', {
      skip: skip ?? false,
    }, async () => {
      const { client } = await consoleUser(
        portal.core,
        portal.app,
        clock,
        'auditor.one@example.org',
        'auditor',
      );
      const token = await tokenOf(client);
      for (const route of adminRoutes) {
        const response = await send(client, route, token);
        if (route.method === 'GET')
          assert.ok(response.statusCode < 400, `${route.path}: ${response.statusCode}`);
        else {
          assert.equal(response.statusCode, 403, `${route.method} ${route.path} by an auditor`);
          assert.match(response.body, /you can look, but not change anything/);
        }
      }
      const account = await portal.core.accounts.find(target);
      assert.equal(account?.disabledAt, null);
      const changes = (await portal.core.audit.list({ email: target, limit: 1000 })).filter(
        (e) => e.type !== 'console.account_viewed',
      );
      assert.ok(!changes.some((e) => e.actor === 'auditor.one@example.org'), 'no change by the auditor');
      await applicationUnchanged();
      assert.ok(!(await portal.core.applications.list()).some((a) => a.name === 'Sneaked in'));
    });

    test('an operator POST without the CSRF token is refused (403) and audited', {
      skip: skip ?? false,
    }, async () => {
      const { client } = await consoleUser(
        portal.core,
        portal.app,
        clock,
        'operator.csrf@example.org',
        'operator',
      );
      for (const route of adminRoutes.filter((r) => r.method === 'POST')) {
        const response = await send(client, route);
        assert.equal(response.statusCode, 403, `${route.path} without a token`);
        assert.match(response.body, /This form has expired/);
        const wrong = await send(client, route, 'not-a-token');
        assert.equal(wrong.statusCode, 403, `${route.path} with a wrong token`);
      }
      const rejected = (await portal.core.audit.list({ limit: 1000 })).filter(
        (e) => e.type === 'request.csrf_rejected' && e.email === 'operator.csrf@example.org',
      );
      assert.equal(rejected.length, 2 * adminRoutes.filter((r) => r.method === 'POST').length);
      assert.equal((await portal.core.accounts.find(target))?.disabledAt, null);
      await applicationUnchanged();
    });

    test('an operator whose MFA is over 15 minutes old steps up before any change', {
      skip: skip ?? false,
    }, async () => {
      const { client } = await consoleUser(
        portal.core,
        portal.app,
        clock,
        'operator.stale@example.org',
        'operator',
      );
      const token = await tokenOf(client);
      clock.advanceMinutes(16);
      const disable = adminRoutes.find((r) => r.path.endsWith('/disable'));
      assert.ok(disable);
      const response = await send(client, disable, token);
      assert.equal(response.statusCode, 303);
      assert.equal(response.headers.location, '/mfa/verify');
      assert.equal((await portal.core.accounts.find(target))?.disabledAt, null, 'not disabled');
      // The session now proves a second factor again, then comes back to the account page.
      const stepped = (await portal.core.audit.list({ email: 'operator.stale@example.org', limit: 5 }))[0];
      assert.equal(stepped?.type, 'session.stepped_up');
    });

    test('every POST route refuses a stale operator the same way', { skip: skip ?? false }, async () => {
      for (const route of adminRoutes.filter((r) => r.method === 'POST')) {
        const email = `op.${route.path.split('/').pop()}.${Math.random().toString(36).slice(2, 6)}@example.org`;
        const { client } = await consoleUser(portal.core, portal.app, clock, email, 'operator');
        const token = await tokenOf(client);
        clock.advanceMinutes(16);
        const response = await send(client, route, token);
        assert.equal(response.statusCode, 303, route.path);
        assert.equal(response.headers.location, '/mfa/verify', route.path);
      }
      assert.equal((await portal.core.accounts.find(target))?.disabledAt, null);
      await applicationUnchanged();
      assert.ok(!(await portal.core.applications.list()).some((a) => a.name === 'Sneaked in'));
    });
  });
}
