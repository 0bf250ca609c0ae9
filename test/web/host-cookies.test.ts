import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { pemToDer, pkiFolder } from '../helpers/pki.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { type CardWorld, cardWorld } from '../helpers/smartcard.ts';

/** The Set-Cookie lines of a response, by cookie name. */
function setCookies(headers: Record<string, unknown>): Map<string, string> {
  const raw = headers['set-cookie'];
  const lines = Array.isArray(raw) ? raw.map(String) : raw === undefined ? [] : [String(raw)];
  return new Map(lines.map((line) => [line.slice(0, line.indexOf('=')), line]));
}

/** What a browser demands of a __Host- cookie: Secure, Path=/ and no Domain. */
function assertHostCookie(line: string | undefined, name: string) {
  assert.ok(line, `${name} is set`);
  assert.ok(line.startsWith(`${name}=`), line);
  assert.match(line, /; Secure(;|$)/i, line);
  assert.match(line, /; Path=\/(;|$)/, line);
  assert.doesNotMatch(line, /; Domain=/i, line);
}

async function signIn(client: InjectClient, email: string) {
  return client.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
}

for (const engine of ENGINES) {
  describe(`portal cookies with cookieSecure on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    const pki = pkiFolder();
    let world: CardWorld;
    let secure: TestPortal;

    before(async () => {
      if (skip) return;
      world = cardWorld(pki);
      secure = await startTestPortal({
        engine,
        cookieSecure: true,
        smartcard: { trust: world.trust, tls: world.tls },
      });
      await addUser(secure.core, 'alice@example.org');
    });
    after(async () => {
      if (skip) return;
      await secure.close();
      pki.remove();
    });

    test('the CSRF and session cookies are __Host- (Secure, Path=/, no Domain) and a sign-in works with them', {
      skip: skip ?? false,
    }, async () => {
      const client = new InjectClient(secure.app);
      const page = await client.get('/signin');
      assertHostCookie(setCookies(page.headers).get('__Host-gatehouse_csrf'), '__Host-gatehouse_csrf');
      const signedIn = await signIn(client, 'alice@example.org');
      assert.equal(signedIn.statusCode, 303);
      const session = setCookies(signedIn.headers).get('__Host-gatehouse_session');
      assertHostCookie(session, '__Host-gatehouse_session');
      assert.match(session ?? '', /; HttpOnly/);
      // No cookie under the plain names, which a plain-HTTP page or a subdomain could plant.
      assert.deepEqual([...client.cookies.keys()].sort(), [
        '__Host-gatehouse_csrf',
        '__Host-gatehouse_session',
      ]);
      const portalPage = await client.get('/');
      assert.equal(portalPage.statusCode, 200, 'the __Host- session cookie signs the browser in');
    });

    test('a session planted under the plain name is not read when cookies are Secure', {
      skip: skip ?? false,
    }, async () => {
      const victim = new InjectClient(secure.app);
      const signedIn = await signIn(victim, 'alice@example.org');
      assert.equal(signedIn.statusCode, 303);
      const token = victim.cookies.get('__Host-gatehouse_session') ?? '';
      const planted = new InjectClient(secure.app);
      planted.cookies.set('gatehouse_session', token);
      const response = await planted.get('/');
      assert.equal(response.headers.location, '/signin');
    });

    test('signing in again and signing out end the session named by the __Host- cookie', {
      skip: skip ?? false,
    }, async () => {
      const client = new InjectClient(secure.app);
      await signIn(client, 'alice@example.org');
      const first = client.cookies.get('__Host-gatehouse_session') ?? '';
      // Signed in, /signin sends the browser home: the form is posted with the home page's token.
      const again = await client.post(
        '/signin',
        { email: 'alice@example.org', password: TEST_PASSWORD },
        { formPage: '/' },
      );
      assert.equal(again.statusCode, 303);
      const second = client.cookies.get('__Host-gatehouse_session') ?? '';
      assert.notEqual(second, first);
      assert.equal(await secure.core.sessions.resume(first, '203.0.113.5'), undefined, 'the old token ended');

      const signedOut = await client.post('/signout', {}, { formPage: '/' });
      assert.equal(signedOut.statusCode, 303);
      const cleared = setCookies(signedOut.headers).get('__Host-gatehouse_session');
      assertHostCookie(cleared, '__Host-gatehouse_session');
      assert.match(cleared ?? '', /Expires=Thu, 01 Jan 1970/);
      assert.equal(await secure.core.sessions.resume(second, '203.0.113.5'), undefined, 'signed out');
    });

    test('the smartcard state cookie is __Host- and the card sign-in completes with it', {
      skip: skip ?? false,
    }, async () => {
      const card = world.ca.issue('alice-host-cookie', { email: 'alice@example.org' });
      const client = new InjectClient(secure.app);
      const started = await client.get('/signin/smartcard');
      assert.equal(started.statusCode, 303);
      assertHostCookie(
        setCookies(started.headers).get('__Host-gatehouse_smartcard'),
        '__Host-gatehouse_smartcard',
      );
      const state = new URL(String(started.headers.location)).searchParams.get('state') ?? '';
      // What the certificate endpoint does once the TLS handshake has shown the card.
      const { ticket } = await secure.core.smartcard.present({
        chain: [pemToDer(card.certPem)],
        purpose: 'sign_in',
        state,
        clientAddress: '203.0.113.5',
      });
      const done = await client.get(`/signin/smartcard/complete?ticket=${ticket}`);
      assert.equal(done.statusCode, 303, done.body);
      const cookies = setCookies(done.headers);
      assertHostCookie(cookies.get('__Host-gatehouse_smartcard'), '__Host-gatehouse_smartcard');
      assertHostCookie(cookies.get('__Host-gatehouse_session'), '__Host-gatehouse_session');
      assert.equal((await client.get('/')).statusCode, 200);
    });
  });

  // Development over plain HTTP, where browsers refuse __Host- cookies.
  describe(`portal cookies without cookieSecure on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let plain: TestPortal;

    before(async () => {
      if (skip) return;
      plain = await startTestPortal({ engine, cookieSecure: false });
      await addUser(plain.core, 'alice@example.org');
    });
    after(async () => {
      if (!skip) await plain.close();
    });

    test('plain-HTTP development (cookieSecure false) keeps the plain names, without Secure', {
      skip: skip ?? false,
    }, async () => {
      const client = new InjectClient(plain.app);
      const signedIn = await signIn(client, 'alice@example.org');
      assert.equal(signedIn.statusCode, 303);
      assert.deepEqual([...client.cookies.keys()].sort(), ['gatehouse_csrf', 'gatehouse_session']);
      assert.doesNotMatch(setCookies(signedIn.headers).get('gatehouse_session') ?? '', /Secure/i);
      assert.equal((await client.get('/')).statusCode, 200);
    });
  });
}
