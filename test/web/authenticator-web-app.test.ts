import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { startTestPortal, type TestPortal } from '../helpers/portal.ts';

/** How the portal serves the authenticator web app (/authenticator/): files, headers, policy. */

describe('the authenticator web app files', () => {
  let portal: TestPortal;

  before(async () => {
    portal = await startTestPortal();
  });
  after(async () => {
    await portal?.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    portal.app.inject({ method: 'GET', url, headers });

  test('/authenticator leads to /authenticator/ (a link fragment stays with the browser)', async () => {
    const response = await get('/authenticator');
    assert.equal(response.statusCode, 301);
    assert.equal(response.headers.location, '/authenticator/');
  });

  test('the page loads its script from the portal, under a policy that lets it reach other servers', async () => {
    const response = await get('/authenticator/');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.equal(response.headers['cache-control'], 'no-cache');
    const csp = String(response.headers['content-security-policy']);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self' https:(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    // No inline script: every script has a src on the portal.
    const scripts = [...response.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.ok(scripts.length > 0);
    for (const [, attributes, content] of scripts) {
      assert.match(attributes ?? '', /src="\/authenticator\/app\.js"/);
      assert.equal(content?.trim(), '');
    }
    assert.match(response.body, /<link rel="manifest" href="\/authenticator\/manifest.webmanifest">/);
    assert.match(response.body, /<html lang="en-GB">/);
    // The portal's other pages keep their own, narrower policy.
    const signin = await get('/signin');
    assert.doesNotMatch(String(signin.headers['content-security-policy']), /connect-src 'self' https:/);
  });

  test('the script is a bundle of the app, revalidated by ETag', async () => {
    const response = await get('/authenticator/app.js');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/javascript/);
    assert.ok(response.body.length > 1000);
    assert.doesNotMatch(response.body, /from ?["']\.\.?\//, 'no imports left to resolve');
    const etag = String(response.headers.etag);
    const again = await get('/authenticator/app.js', { 'if-none-match': etag });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
  });

  test('the service worker may control the app, and names its cache after this version', async () => {
    const response = await get('/authenticator/sw.js');
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['service-worker-allowed'], '/authenticator/');
    assert.equal(response.headers['cache-control'], 'no-cache');
    assert.match(response.body, /gatehouse-authenticator-[A-Za-z0-9_-]{16}/);
    assert.doesNotMatch(response.body, /__SHELL_VERSION__/);
    assert.doesNotMatch(response.body, /^\s*(import|export)\s/m, 'a classic script');
  });

  test('the manifest makes the app installable, with icons that are served', async () => {
    const response = await get('/authenticator/manifest.webmanifest');
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/manifest\+json/);
    const manifest = response.json() as {
      name: string;
      start_url: string;
      scope: string;
      display: string;
      icons: { src: string; sizes: string; type: string }[];
    };
    assert.equal(manifest.name, 'Gatehouse Authenticator');
    assert.equal(manifest.start_url, '/authenticator/');
    assert.equal(manifest.scope, '/authenticator/');
    assert.equal(manifest.display, 'standalone');
    for (const size of ['192x192', '512x512']) assert.ok(manifest.icons.some((i) => i.sizes === size));
    for (const icon of manifest.icons) {
      const file = await get(icon.src);
      assert.equal(file.statusCode, 200, icon.src);
      assert.equal(String(file.headers['content-type']).split(';')[0], icon.type);
      if (icon.type !== 'image/png') continue;
      // A real PNG of the size it claims: signature, IHDR, and pixel data that inflates to it.
      const png = file.rawPayload;
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.equal(png.subarray(12, 16).toString('ascii'), 'IHDR');
      const [width, height] = icon.sizes.split('x').map(Number);
      assert.equal(png.readUInt32BE(16), width);
      assert.equal(png.readUInt32BE(20), height);
      const idatLength = png.readUInt32BE(33);
      assert.equal(png.subarray(37, 41).toString('ascii'), 'IDAT');
      const pixels = inflateSync(png.subarray(41, 41 + idatLength));
      assert.equal(pixels.length, height! * (1 + width! * 3));
    }
  });

  test('nothing else is served under /authenticator/', async () => {
    for (const path of ['/authenticator/main.ts', '/authenticator/../package.json', '/authenticator/x.js']) {
      assert.equal((await get(path)).statusCode, 404, path);
    }
  });
});
