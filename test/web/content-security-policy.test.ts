import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { pkiFolder } from '../helpers/pki.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';
import { cardWorld } from '../helpers/smartcard.ts';

/** The directives of a Content-Security-Policy header, by name. */
function directives(header: string | null | undefined): Map<string, string> {
  assert.ok(header, 'a Content-Security-Policy header');
  return new Map(
    header
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => [d.split(/\s+/)[0] ?? '', d.slice(d.indexOf(' ') + 1)]),
  );
}

describe("base-uri 'none' on every kind of page", () => {
  const pki = pkiFolder();
  let portal: TestPortal;

  before(async () => {
    const world = cardWorld(pki);
    // Listening, so the smartcard certificate endpoint (a server of its own) runs too.
    portal = await startTestPortal({ listen: true, smartcard: { trust: world.trust } });
  });
  after(async () => {
    await portal.close();
    pki.remove();
  });

  test("the portal's pages: no <base> element may re-point their links and forms", async () => {
    const response = await fetch(`${portal.url}/signin`);
    assert.equal(response.status, 200);
    const csp = directives(response.headers.get('content-security-policy'));
    assert.equal(csp.get('base-uri'), "'none'");
    assert.equal(csp.get('form-action'), "'self'");
  });

  test('the authenticator web app, which has a policy of its own', async () => {
    const response = await fetch(`${portal.url}/authenticator/`);
    assert.equal(response.status, 200);
    assert.equal(directives(response.headers.get('content-security-policy')).get('base-uri'), "'none'");
  });

  test('the smartcard certificate endpoint', async () => {
    assert.ok(portal.certificateEndpointUrl);
    const response = await fetch(`${portal.certificateEndpointUrl}/signin`);
    await response.arrayBuffer();
    assert.equal(directives(response.headers.get('content-security-policy')).get('base-uri'), "'none'");
  });
});

/** Everything a page or stylesheet loads (not what it merely links to): stylesheets, scripts, images, fonts. */
function loadedUrls(text: string): string[] {
  const urls: string[] = [];
  for (const m of text.matchAll(/<link\b[^>]*\bhref="([^"]+)"/g)) urls.push(m[1] ?? '');
  for (const m of text.matchAll(/<(?:script|img|source|iframe)\b[^>]*\bsrc="([^"]+)"/g))
    urls.push(m[1] ?? '');
  for (const m of text.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/g)) urls.push(m[1] ?? '');
  for (const m of text.matchAll(/@import\s+["']([^"']+)["']/g)) urls.push(m[1] ?? '');
  return urls;
}

describe('a portal on a closed network loads nothing from outside', () => {
  let portal: TestPortal;

  before(async () => {
    portal = await startTestPortal({ developmentPhone: true, singleSignOn: true });
    await portal.core.applications.add(
      {
        name: 'Email',
        redirectUris: ['https://mail.example.org/callback'],
        postLogoutRedirectUris: [],
        confidential: true,
        requireMfa: false,
      },
      'test',
    );
  });
  after(() => portal.close());

  test('the policy allows fonts and images only from the portal itself (and data: images)', async () => {
    const csp = directives(
      (await new InjectClient(portal.app).get('/signin')).headers['content-security-policy'] as string,
    );
    assert.equal(csp.get('font-src'), "'self'");
    assert.equal(csp.get('img-src'), "'self' data:");
  });

  test('no page, before or after sign-in, nor any stylesheet it links, refers to another host', async () => {
    const origin = 'http://localhost';
    const visitor = new InjectClient(portal.app);
    const email = 'closed.network@example.org';
    await addUser(portal.core, email);
    const pc = new InjectClient(portal.app);
    await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    const enrolling = new InjectClient(portal.app);
    const other = await addUser(portal.core, 'closed.network.mfa@example.org');
    await portal.core.enrolment.enable(other, '192.0.2.1');
    await enrolling.post(
      '/signin',
      { email: 'closed.network.mfa@example.org', password: TEST_PASSWORD },
      { formPage: '/signin' },
    );
    const pages: [InjectClient, string][] = [
      [visitor, '/'],
      [visitor, '/signin'],
      [pc, '/'],
      [pc, '/profile'],
      [pc, '/profile/self-service'],
      [pc, '/profile/self-service/mfa'],
      [enrolling, '/mfa/register'],
      [enrolling, '/mfa/register/start'],
      [enrolling, '/mfa/register/different'],
      [enrolling, '/mfa/register/phone'],
      [enrolling, '/mfa/register/download'],
    ];
    const stylesheets = new Set<string>();
    let checked = 0;
    for (const [client, path] of pages) {
      const page = await client.get(path);
      assert.equal(page.statusCode, 200, path);
      assert.doesNotMatch(page.body, /assets\.nhs\.uk/, path);
      for (const url of loadedUrls(page.body)) {
        const resolved = new URL(url, `${origin}${path}`);
        if (resolved.protocol === 'data:') continue;
        assert.equal(resolved.origin, origin, `${path} loads ${url}`);
        if (resolved.pathname.endsWith('.css')) stylesheets.add(resolved.pathname);
        checked++;
      }
    }
    assert.ok(checked > pages.length, 'the pages load their styles and scripts');
    assert.deepEqual([...stylesheets].sort(), ['/static/gatehouse.css', '/static/nhsuk-frontend.min.css']);
    for (const path of stylesheets) {
      const css = await visitor.get(path);
      assert.equal(css.statusCode, 200, path);
      assert.match(String(css.headers['content-type']), /^text\/css/);
      assert.doesNotMatch(css.body, /@font-face|assets\.nhs\.uk/, path);
      for (const url of loadedUrls(css.body)) {
        const resolved = new URL(url, `${origin}${path}`);
        if (resolved.protocol === 'data:') continue;
        assert.equal(resolved.origin, origin, `${path} loads ${url}`);
        // Each image a stylesheet names is served by the portal.
        assert.equal((await visitor.get(resolved.pathname)).statusCode, 200, url);
      }
    }
    // The NHS.UK styles are still all there but for their web fonts: text falls back to Arial.
    assert.match(
      (await visitor.get('/static/nhsuk-frontend.min.css')).body,
      /font-family:Frutiger W01,arial,sans-serif/,
    );
  });
});

describe("the organisation's logo on a host of its own", () => {
  test('is the one other host images may come from; a logo on the portal adds none', async () => {
    const Fastify = (await import('fastify')).default;
    const { registerSecurityHeaders } = await import('../../src/web/app.ts');
    for (const [logoUrl, imgSrc] of [
      ['https://intranet.example.org/brand/logo.svg', "'self' data: https://intranet.example.org"],
      ['/static/logo.svg', "'self' data:"],
      [undefined, "'self' data:"],
    ] as const) {
      const app = Fastify();
      await registerSecurityHeaders(app, { logoUrl });
      app.get('/', async () => 'ok');
      const response = await app.inject({ url: '/' });
      const csp = directives(response.headers['content-security-policy'] as string);
      assert.equal(csp.get('img-src'), imgSrc, String(logoUrl));
      assert.equal(csp.get('font-src'), "'self'");
      await app.close();
    }
  });
});

describe('the waiting pages may open their event streams', () => {
  test("connect-src (or default-src) allows 'self', and the stream is on the portal itself", async () => {
    const portal = await startTestPortal();
    try {
      const flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
      const { email } = await flows.registered();
      const { pc } = await flows.pcAtVerification(email);
      const page = await pc.get('/mfa/verify');
      assert.match(page.body, /data-wait-events-url="\/mfa\/verify\/events"/);
      const csp = directives(page.headers['content-security-policy'] as string | undefined);
      const connect = csp.get('connect-src') ?? csp.get('default-src');
      assert.ok(connect?.split(/\s+/).includes("'self'"), `connect-src: ${connect}`);
    } finally {
      await portal.close();
    }
  });
});
