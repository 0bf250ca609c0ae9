import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InjectClient } from '../helpers/inject-client.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';

describe('forms and bad input', () => {
  let portal: TestPortal;

  before(async () => {
    portal = await startTestPortal();
    await addUser(portal.core, 'alice@example.org');
    await addUser(portal.core, 'shared@example.org', { sharedMailbox: true });
  });
  after(() => portal.close());

  const signedIn = async (email = 'alice@example.org') => {
    const client = new InjectClient(portal.app);
    const response = await client.post(
      '/signin',
      { email, password: TEST_PASSWORD },
      { formPage: '/signin' },
    );
    assert.equal(response.statusCode, 303);
    return client;
  };

  test('sets the session cookie HttpOnly and SameSite, never readable by scripts', async () => {
    const client = new InjectClient(portal.app);
    const response = await client.post(
      '/signin',
      { email: 'alice@example.org', password: TEST_PASSWORD },
      { formPage: '/signin' },
    );
    const header = String(response.headers['set-cookie']);
    assert.match(header, /gatehouse_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax/);
  });

  test('refuses a form without a CSRF token, changes nothing, and audits it', async () => {
    const client = await signedIn();
    const response = await client.send({
      method: 'POST',
      url: '/profile/self-service/mfa',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    assert.equal(response.statusCode, 403);
    assert.match(response.body, /This form has expired/);
    assert.equal((await portal.core.accounts.find('alice@example.org'))?.mfaEnabled, false);
    const [event] = await portal.core.audit.list({ email: 'alice@example.org', limit: 1 });
    assert.equal(event?.type, 'request.csrf_rejected');
  });

  test('refuses a forged CSRF token', async () => {
    const client = await signedIn();
    const response = await client.post('/profile/self-service/mfa', { _csrf: 'forged-token-value' });
    assert.equal(response.statusCode, 403);
    assert.equal((await portal.core.accounts.find('alice@example.org'))?.mfaEnabled, false);
  });

  test('refuses a CSRF token made for another browser', async () => {
    const attacker = new InjectClient(portal.app, '198.51.100.1');
    const page = await attacker.get('/signin');
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const victim = await signedIn();
    const response = await victim.post('/profile/self-service/mfa', { _csrf: token });
    assert.equal(response.statusCode, 403);
  });

  test('refuses a sign-in form without a CSRF token (login CSRF)', async () => {
    const client = new InjectClient(portal.app);
    const response = await client.post('/signin', {
      _csrf: '',
      email: 'alice@example.org',
      password: TEST_PASSWORD,
    });
    assert.equal(response.statusCode, 403);
    assert.equal(client.cookies.has('gatehouse_session'), false);
  });

  test('answers a body over 1 MB with a clear page and saves nothing', async () => {
    const client = new InjectClient(portal.app);
    await client.get('/signin');
    const response = await client.post('/signin', {}, { raw: `email=${'a'.repeat(1_100_000)}&password=x` });
    assert.equal(response.statusCode, 413);
    assert.match(response.body, /What you sent is too large/);
    assert.doesNotMatch(response.body, /at .*\.ts:\d+/);
  });

  test('answers empty and malformed values with field errors', async () => {
    const client = new InjectClient(portal.app);
    const empty = await client.post('/signin', { email: '', password: '' }, { formPage: '/signin' });
    assert.equal(empty.statusCode, 400);
    assert.match(empty.body, /There is a problem/);
    assert.match(empty.body, /href="#email"/);
    assert.match(empty.body, /Enter your password/);
    const malformed = await client.post(
      '/signin',
      { email: 'not an email', password: 'x' },
      { formPage: '/signin' },
    );
    assert.equal(malformed.statusCode, 400);
    assert.match(malformed.body, /Enter your email address in the correct format/);
  });

  test('escapes hostile values echoed back into the page', async () => {
    const client = new InjectClient(portal.app);
    const hostile = '"><script>alert(1)</script>@x.org';
    const response = await client.post('/signin', { email: hostile, password: 'x' }, { formPage: '/signin' });
    assert.doesNotMatch(response.body, /<script>alert\(1\)<\/script>/);
    assert.match(response.body, /&lt;script&gt;/);
  });

  test('treats repeated and unexpected fields without error or effect', async () => {
    const client = new InjectClient(portal.app);
    const page = await client.get('/signin');
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const payload = `_csrf=${encodeURIComponent(token)}&email=alice%40example.org&email=x&password=${encodeURIComponent(TEST_PASSWORD)}&isAdmin=1&__proto__=x`;
    const response = await client.post('/signin', {}, { raw: payload });
    assert.equal(response.statusCode, 303);
  });

  test('answers a body that is not a form with a clear error', async () => {
    const client = new InjectClient(portal.app);
    const response = await client.send({
      method: 'POST',
      url: '/signin',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":',
    });
    assert.ok(response.statusCode >= 400 && response.statusCode < 500);
    assert.doesNotMatch(response.body, /SyntaxError|stack/);
  });

  test('a shared mailbox cannot enable MFA even by posting the form directly; the refusal is audited', async () => {
    const client = await signedIn('shared@example.org');
    const response = await client.post(
      '/profile/self-service/mfa',
      {},
      { formPage: '/profile/self-service' },
    );
    assert.equal(response.statusCode, 303);
    assert.equal((await portal.core.accounts.find('shared@example.org'))?.mfaEnabled, false);
    const [event] = await portal.core.audit.list({ email: 'shared@example.org', limit: 1 });
    assert.equal(event?.type, 'mfa.enrolment_refused');
  });

  test('pages behind sign-in send visitors to the sign-in page', async () => {
    const client = new InjectClient(portal.app);
    for (const url of [
      '/',
      '/profile',
      '/profile/self-service',
      '/profile/self-service/mfa',
      '/mfa/register',
    ]) {
      const response = await client.get(url);
      assert.equal(response.statusCode, 303, url);
      assert.equal(response.headers.location, '/signin', url);
    }
  });

  test('a forged or unknown session cookie opens nothing', async () => {
    const client = new InjectClient(portal.app);
    client.cookies.set('gatehouse_session', 'A'.repeat(43));
    const response = await client.get('/profile');
    assert.equal(response.headers.location, '/signin');
  });

  test('health and readiness answer', async () => {
    assert.equal((await portal.app.inject('/healthz')).statusCode, 200);
    const ready = await portal.app.inject('/readyz');
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready' });
  });

  test('every stylesheet and image the pages link to is served', async () => {
    const page = await portal.app.inject('/signin');
    const links = [...page.body.matchAll(/<link rel="(?:stylesheet|icon)" href="([^"]+)"/g)].map(
      (m) => m[1]!,
    );
    assert.ok(links.length >= 3, `links found: ${links.join(', ')}`);
    for (const href of links) {
      const response = await portal.app.inject(href);
      assert.equal(response.statusCode, 200, href);
    }
    const css = await portal.app.inject(links.find((l) => l.includes('nhsuk-frontend'))!);
    assert.match(String(css.headers['content-type']), /text\/css/);
    assert.ok(css.body.includes('.nhsuk-button'), 'the NHS.UK frontend styles');
  });

  test('an unknown page gets a page-not-found page', async () => {
    const response = await portal.app.inject('/no/such/page');
    assert.equal(response.statusCode, 404);
    assert.match(response.body, /Page not found/);
  });
});
