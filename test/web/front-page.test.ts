import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { InjectClient } from '../helpers/inject-client.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';

/** Guide 000, smartcard part, step 2: "Select 'Email'" on the portal's front page. */
describe('the front page lists the applications for single sign-on', () => {
  let portal: TestPortal;

  before(async () => {
    portal = await startTestPortal({ singleSignOn: true });
  });
  after(() => portal.close());

  const add = (name: string, redirectUri: string, launchUrl?: string) =>
    portal.core.applications.add(
      {
        name,
        redirectUris: [redirectUri],
        postLogoutRedirectUris: [],
        confidential: true,
        requireMfa: false,
        ...(launchUrl ? { launchUrl } : {}),
      },
      'test',
    );

  test('with no application it is the sign-in page; then Email first, each linked to its launch URL', async () => {
    const visitor = new InjectClient(portal.app);
    assert.equal((await visitor.get('/')).headers.location, '/signin');

    await add('Rota', 'https://rota.example.org/auth/callback');
    await add('Email', 'https://mail.example.org/callback', 'https://mail.example.org/login?from=portal');
    await add('Archive', 'https://archive.example.org/oidc/cb');
    const front = await visitor.get('/');
    assert.equal(front.statusCode, 200);
    assert.match(front.body, /<title>Welcome - /);
    const links = [
      ...front.body.matchAll(/<li><a class="nhsuk-link nhsuk-body-l" href="([^"]+)">([^<]+)<\/a><\/li>/g),
    ];
    assert.deepEqual(
      links.map((l) => l[2]),
      ['Email', 'Archive', 'Rota'],
    );
    // The launch URL with the issuer (a login initiated by a third party); else the application's origin.
    const issuer = (await visitor.get('/oidc/.well-known/openid-configuration')).json().issuer;
    const email = new URL((links[0]?.[1] ?? '').replaceAll('&amp;', '&'));
    assert.equal(`${email.origin}${email.pathname}`, 'https://mail.example.org/login');
    assert.deepEqual(
      [...email.searchParams],
      [
        ['from', 'portal'],
        ['iss', issuer],
      ],
    );
    assert.equal(links[1]?.[1], 'https://archive.example.org/');
    assert.equal(links[2]?.[1], 'https://rota.example.org/');
    assert.match(front.body, /<a class="nhsuk-link" href="\/signin">sign in to the portal<\/a>/);
  });

  test('a launch URL must be absolute and https (http only on loopback)', async () => {
    for (const launchUrl of ['/login', 'http://mail.example.org/login', 'javascript:alert(1)']) {
      await assert.rejects(add('Bad', 'https://bad.example.org/cb', launchUrl), { code: 'invalid_input' });
    }
    const { application } = await add(
      'Local',
      'http://127.0.0.1:3000/callback',
      'http://localhost:3000/login',
    );
    assert.equal(
      (await portal.core.applications.find(application.clientId))?.launchUrl,
      'http://localhost:3000/login',
    );
  });

  test('signed in, the home page lists the same applications; a session part-way goes on with its step', async () => {
    const email = 'front.page@example.org';
    const account = await addUser(portal.core, email);
    const pc = new InjectClient(portal.app);
    await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    const home = await pc.get('/');
    assert.equal(home.statusCode, 200);
    assert.match(home.body, /Welcome, [\s\S]*Your applications[\s\S]*>Email<\/a>/);

    await portal.core.enrolment.enable(account, '192.0.2.1');
    const next = new InjectClient(portal.app);
    await next.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    assert.equal((await next.get('/')).headers.location, '/mfa/register');
  });
});
