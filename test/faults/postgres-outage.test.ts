import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { systemClock } from '../../src/core/clock.ts';
import { startLdapGateway } from '../../src/gateways/ldap/server.ts';
import { openStore } from '../../src/store/open-store.ts';
import { postgresEngine } from '../../src/store/postgres.ts';
import { ldapBind } from '../gateways/legacy-clients.ts';
import type { TestDatabase } from '../helpers/engines.ts';
import { eventually } from '../helpers/eventually.ts';
import { HttpBrowser } from '../helpers/http-browser.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { pkiFolder } from '../helpers/pki.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { type PrivatePostgres, privatePostgres } from '../helpers/private-postgres.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';
import { cardWorld } from '../helpers/smartcard.ts';

/**
 * PostgreSQL going away under a running portal: its own server (never the shared one), stopped,
 * restarted and its connections terminated. The portal must stay up, say "try again" meanwhile
 * (503 with Retry-After; JSON for the app and the waiting page's script), and carry on by itself.
 */

function databaseOn(server: PrivatePostgres): TestDatabase {
  const location = { engine: 'postgres', url: server.url } as const;
  return {
    location,
    open: () => openStore(location),
    rawEngine: () => postgresEngine({ connectionString: server.url }),
    drop: async () => {},
  };
}

const tryAgain = /Wait a moment, then try again/;

describe('PostgreSQL away under a running portal', () => {
  let server: PrivatePostgres;
  let portal: TestPortal;
  let journeys: ReturnType<typeof pushJourneys>;

  before(async () => {
    server = await privatePostgres();
    portal = await startTestPortal({ database: databaseOn(server) });
    journeys = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
  });
  after(async () => {
    await portal?.close();
    server?.destroy();
  });

  const ready = async () => (await portal.app.inject('/readyz')).statusCode === 200;
  const stopDatabase = async () => {
    server.stop();
    const answer = await portal.app.inject('/readyz');
    assert.equal(answer.statusCode, 503, 'not ready while the database is away');
    assert.equal(answer.headers['retry-after'], '5');
  };
  const startDatabase = async () => {
    server.start();
    await eventually('ready again once the database is back, without a restart', ready);
  };

  test('terminated idle connections do not end the process; the next request opens new ones', async () => {
    assert.equal(await ready(), true);
    // Several idle connections in the pool, then an administrator ends them all.
    await Promise.all(Array.from({ length: 5 }, () => portal.app.inject('/readyz')));
    server.terminateConnections();
    await eventually('ready after pg_terminate_backend', ready);
    const pc = new InjectClient(portal.app);
    await addUser(portal.core, 'idle-cut@example.org');
    const signedIn = await pc.post(
      '/signin',
      { email: 'idle-cut@example.org', password: TEST_PASSWORD },
      { formPage: '/signin' },
    );
    assert.equal(signedIn.statusCode, 303);
  });

  test('connections terminated under load: every answer is a page or a 503 "try again", never a 500', async () => {
    await addUser(portal.core, 'load@example.org');
    const pc = new InjectClient(portal.app);
    const first = await pc.post(
      '/signin',
      { email: 'load@example.org', password: TEST_PASSWORD },
      { formPage: '/signin' },
    );
    assert.equal(first.statusCode, 303);
    const statuses = new Map<number, number>();
    let running = true;
    let answered = 0;
    const worker = async () => {
      while (running) {
        // The signed-in home page (a session read and touch) and the readiness probe.
        for (const url of ['/', '/readyz']) {
          const response = await pc.get(url);
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          if (response.statusCode === 503) {
            assert.equal(response.headers['retry-after'], '5');
            if (url === '/') assert.match(response.body, tryAgain);
          }
          answered++;
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    for (let cut = 0; cut < 5; cut++) {
      const before = answered;
      await eventually('requests flow between cuts', () => answered >= before + 40);
      server.terminateConnections();
    }
    const last = answered;
    await eventually('requests flow after the last cut', () => answered >= last + 40);
    running = false;
    await Promise.all(workers);
    const unexpected = [...statuses.keys()].filter((s) => ![200, 503].includes(s));
    assert.deepEqual(unexpected, [], `statuses seen: ${JSON.stringify([...statuses])}`);
    assert.equal((await pc.get('/')).statusCode, 200, 'the signed-in page works after the cuts');
  });

  test('while the database is stopped: a "try again" page, not a wrong password; then it resumes', async () => {
    await addUser(portal.core, 'stopped@example.org');
    await stopDatabase();
    try {
      const pc = new InjectClient(portal.app);
      const signInPage = await pc.get('/signin');
      assert.equal(signInPage.statusCode, 200, 'the sign-in page itself needs no database');
      const refused = await pc.post('/signin', { email: 'stopped@example.org', password: TEST_PASSWORD });
      assert.equal(refused.statusCode, 503);
      assert.equal(refused.headers['retry-after'], '5');
      assert.match(refused.body, tryAgain);
      assert.doesNotMatch(refused.body, /not correct/, 'an outage never reads as a wrong password');
    } finally {
      await startDatabase();
    }
    const pc = new InjectClient(portal.app);
    const signedIn = await pc.post(
      '/signin',
      { email: 'stopped@example.org', password: TEST_PASSWORD },
      { formPage: '/signin' },
    );
    assert.equal(signedIn.statusCode, 303);
  });

  test('restarted in the middle of a sign-in: the password step fails plainly, then succeeds', async () => {
    const { email, phone } = await journeys.registered();
    const pc = new InjectClient(portal.app);
    const form = await pc.get('/signin');
    await stopDatabase();
    try {
      const refused = await pc.post(
        '/signin',
        { email, password: TEST_PASSWORD, _csrf: csrfOf(form.body) },
        { formPage: '/signin' },
      );
      assert.equal(refused.statusCode, 503);
      assert.match(refused.body, tryAgain);
    } finally {
      await startDatabase();
    }
    const again = await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    assert.equal(again.headers.location, '/mfa/verify');
    // And the sign-in finishes with the app, after a second restart between the two factors.
    server.restart();
    await eventually('ready after a restart', ready);
    const [requestId] = await phone.pendingIds();
    const number = /id="matching-number">(\d\d)</.exec((await pc.get('/mfa/verify')).body)?.[1];
    assert.ok(requestId && number);
    assert.equal((await phone.answer(requestId, 'approve', number)).json().status, 'approved');
    const status = await pc.get('/mfa/verify/status');
    assert.equal(status.json().status, 'approved');
  });

  test('restarted in the middle of a push approval: the answer is refused whole, then accepted', async () => {
    const { email, phone } = await journeys.registered();
    const { pc, number } = await journeys.pcAtVerification(email);
    const [requestId] = await phone.pendingIds();
    assert.ok(requestId);
    await stopDatabase();
    try {
      const answer = await phone.answer(requestId, 'approve', number);
      assert.equal(answer.statusCode, 503, answer.body);
      assert.equal(answer.headers['retry-after'], '5');
      assert.equal(answer.json().error.code, 'database_unavailable');
      const status = await pc.send({
        method: 'GET',
        url: '/mfa/verify/status',
        headers: { accept: 'application/json' },
      });
      assert.equal(status.statusCode, 503);
      assert.equal(status.json().error.code, 'database_unavailable');
    } finally {
      await startDatabase();
    }
    // Nothing half-written: the request is still waiting for its answer, and takes it now.
    assert.deepEqual(await phone.pendingIds(), [requestId]);
    assert.equal((await phone.answer(requestId, 'approve', number)).json().status, 'approved');
    const status = await pc.get('/mfa/verify/status');
    assert.equal(status.json().status, 'approved');
    assert.equal((await pc.get(status.json().next)).statusCode, 200);
  });

  test('an LDAP bind while the database is away is answered "unavailable" (52), then works', async () => {
    const account = await addUser(portal.core, 'ldap-outage@example.org');
    await portal.core.enrolment.enable(account, '127.0.0.1');
    const { keyPassword } = await portal.core.appPasswords.create(account, 'Mail on the laptop', '127.0.0.1');
    const gateway = await startLdapGateway(
      portal.core,
      { host: '127.0.0.1', port: 0, baseDn: 'ou=people,dc=example,dc=org', allowPlain: false },
      pino({ level: 'silent' }),
    );
    try {
      const dn = 'uid=ldap-outage@example.org,ou=people,dc=example,dc=org';
      await stopDatabase();
      try {
        assert.equal(
          await ldapBind(gateway.port, dn, keyPassword),
          52,
          'unavailable, not invalid credentials',
        );
      } finally {
        await startDatabase();
      }
      assert.equal(await ldapBind(gateway.port, dn, keyPassword), 0);
    } finally {
      await gateway.close();
    }
  });

  test('the smartcard endpoint, while the database is away: the same "try again" page', async () => {
    const pki = pkiFolder();
    const card = cardWorld(pki);
    const alice = card.ca.issue('alice', { commonName: 'Alice Smartcard', email: 'card-outage@example.org' });
    const withCards = await startTestPortal({
      database: databaseOn(server),
      listen: true,
      smartcard: { trust: card.trust, trustedProxies: ['127.0.0.1'], certificateHeader: 'X-SSL-Client-Cert' },
    });
    try {
      await addUser(withCards.core, 'card-outage@example.org');
      const started = await new HttpBrowser().request(`${withCards.url}/signin/smartcard`);
      const endpoint = started.headers.get('location') ?? '';
      assert.ok(endpoint.startsWith(withCards.certificateEndpointUrl), endpoint);
      const present = () =>
        fetch(endpoint, { headers: { 'X-SSL-Client-Cert': encodeURIComponent(alice.certPem) } });
      await stopDatabase();
      try {
        const away = await present();
        assert.equal(away.status, 503);
        assert.equal(away.headers.get('retry-after'), '5');
        const body = await away.text();
        assert.match(body, tryAgain);
        assert.doesNotMatch(body, /ECONNREFUSED|database/i, 'nothing about the failure itself');
      } finally {
        await startDatabase();
      }
      assert.equal((await present()).status, 200);
    } finally {
      await withCards.close();
      pki.remove();
    }
  });

  test('restarted in the middle of a registration: the number and Next fail plainly, then finish', async () => {
    const { email, pc, phone, number } = await journeys.scanned();
    const [requestId] = await phone.pendingIds();
    assert.ok(requestId);
    const numberPage = await pc.get('/mfa/register/number');
    await stopDatabase();
    try {
      assert.equal((await phone.answer(requestId, 'approve', number)).statusCode, 503);
      const next = await pc.post('/mfa/register/finish', { _csrf: csrfOf(numberPage.body) });
      assert.equal(next.statusCode, 503);
      assert.match(next.body, tryAgain);
    } finally {
      await startDatabase();
    }
    assert.deepEqual(await phone.pendingIds(), [requestId], 'the registration request still waits');
    assert.equal((await phone.answer(requestId, 'approve', number)).json().status, 'approved');
    const finish = await pc.post('/mfa/register/finish', {}, { formPage: '/mfa/register/number' });
    assert.equal(finish.headers.location, '/mfa/register/app-password');
    const account = await portal.core.accounts.find(email);
    assert.ok(account);
    const apps = (await portal.store.methods.listForAccount(account.id)).filter(
      (m) => m.kind === 'authenticator_app',
    );
    assert.equal(apps.length, 1, 'one authenticator app, not one per attempt');
  });
});

function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token');
  return match[1];
}
