import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { ACR_MFA, ACR_PASSWORD } from '../../src/oidc/acr.ts';
import { type Apache, type ApacheSite, apacheSites, startApache } from '../helpers/apache.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { type Nginx, startNginx } from '../helpers/nginx.ts';
import { autoSelectCertificatePolicy, importPkcs12, nssHome, trustCaInNss } from '../helpers/nss.ts';
import { pkiFolder } from '../helpers/pki.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { cardWorld } from '../helpers/smartcard.ts';
import { openStrictPage } from '../helpers/strict-browser.ts';

/**
 * nginx in front of the portal, terminating TLS as production does: the portal (Secure,
 * __Host- cookies), single sign-on to Apache with mod_auth_openidc through it (the issuer is
 * nginx's https address, learnt from X-Forwarded-Proto and X-Forwarded-Host from a trusted
 * proxy, no publicUrl set), and the smartcard endpoint behind `ssl_verify_client on`, which
 * passes the verified certificate in X-SSL-Client-Cert. A server block that leaves out
 * X-Forwarded-Proto shows what the operator then gets: a page and a log line, never a 500.
 */
describe('nginx terminating TLS in front of the portal', () => {
  const pki = pkiFolder();
  let portal: TestPortal;
  let nginx: Nginx;
  let apache: Apache;
  let site: ApacheSite;
  let browser: Browser;
  let nss: ReturnType<typeof nssHome>;
  let policy: { remove(): void };
  let serverCaPem: string;
  const contexts: BrowserContext[] = [];
  const ports = { portal: 0, cards: 0, withoutForwarding: 0 };
  let portalUrl = '';

  before(async () => {
    const world = cardWorld(pki);
    serverCaPem = readFileSync(world.serverCa.certFile, 'utf8');
    const server = world.serverCa.issue('nginx', { usage: 'serverAuth', serverName: '127.0.0.1' });
    const alice = world.ca.issue('alice', {
      commonName: 'Alice Smartcard',
      email: 'alice.proxy@example.org',
    });
    ports.portal = await freeTcpPort();
    ports.cards = await freeTcpPort();
    ports.withoutForwarding = await freeTcpPort();
    portalUrl = `https://127.0.0.1:${ports.portal}`;
    portal = await startTestPortal({
      listen: true,
      singleSignOn: true,
      cookieSecure: true,
      trustProxy: '127.0.0.1',
      // The endpoint listens on plain HTTP behind nginx, which asks for the card and vouches for it.
      smartcard: {
        trust: world.trust,
        trustedProxies: ['127.0.0.1'],
        publicUrl: `https://127.0.0.1:${ports.cards}`,
        portalUrl,
      },
    });
    await addUser(portal.core, 'alice.proxy@example.org', { displayName: 'Alice Proxy' });
    const tls = { certFile: server.certFile, keyFile: server.keyFile };
    nginx = await startNginx([
      { port: ports.portal, backend: portal.url, ...tls, forwardedHeaders: true },
      {
        port: ports.cards,
        backend: portal.certificateEndpointUrl,
        ...tls,
        forwardedHeaders: true,
        clientCa: world.ca.certFile,
        certificateHeader: 'X-SSL-Client-Cert',
      },
      { port: ports.withoutForwarding, backend: portal.url, ...tls, forwardedHeaders: false },
    ]);
    [site] = (await apacheSites(1)) as [ApacheSite];
    const { application, clientSecret } = await portal.core.applications.add(
      {
        name: 'Intranet',
        redirectUris: [site.redirectUri],
        postLogoutRedirectUris: [site.loggedOutUrl],
        confidential: true,
        requireMfa: false,
      },
      'test',
    );
    apache = await startApache(
      `${portalUrl}/oidc`,
      [site],
      [{ clientId: application.clientId, clientSecret: clientSecret! }],
      { caBundle: world.serverCa.certFile },
    );
    nss = nssHome();
    trustCaInNss(nss.db, 'Test Server CA', world.serverCa.certFile);
    importPkcs12(nss.db, world.ca.pkcs12(alice));
    policy = autoSelectCertificatePolicy(`https://127.0.0.1:${ports.cards}`, 'Test Care Identity CA');
    browser = await launchBrowser({ env: { HOME: nss.home } });
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    policy?.remove();
    nss?.remove();
    await apache?.stop();
    await nginx?.stop();
    await portal?.close();
    pki.remove();
  });

  async function strictPage() {
    const strict = await openStrictPage(browser);
    contexts.push(strict.context);
    return strict;
  }

  async function signInAtPortal(page: import('playwright-core').Page, email: string) {
    await page.getByLabel('Email address', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  test('the portal over https through nginx: sign in with Secure __Host- cookies', async () => {
    const email = 'proxied.portal@example.org';
    await addUser(portal.core, email, { displayName: 'Proxied Portal' });
    const { context, page, violations } = await strictPage();
    await page.goto(`${portalUrl}/signin`);
    await signInAtPortal(page, email);
    await page.waitForURL(`${portalUrl}/`);
    assert.match(await page.locator('main').innerText(), /Proxied Portal/);
    const session = (await context.cookies(portalUrl)).find((c) => c.name === '__Host-gatehouse_session');
    assert.ok(session?.secure, 'the session cookie is Secure, with the __Host- prefix');
    assert.deepEqual(violations, []);
  });

  test("single sign-on through nginx: the issuer is nginx's https address; Apache's page is reached", async () => {
    const discovery = JSON.parse((await get(`${portalUrl}/oidc/.well-known/openid-configuration`)).body);
    assert.equal(discovery.issuer, `${portalUrl}/oidc`);
    assert.equal(discovery.authorization_endpoint, `${portalUrl}/oidc/auth`);
    const email = 'proxied.sso@example.org';
    await addUser(portal.core, email);
    const { page, violations } = await strictPage();
    await page.goto(site.protectedUrl);
    await page.waitForURL(`${portalUrl}/signin?**`);
    await signInAtPortal(page, email);
    await page.waitForURL(site.protectedUrl);
    assert.equal(await page.locator('#email').innerText(), email);
    assert.equal(await page.locator('#acr').innerText(), ACR_PASSWORD);
    assert.deepEqual(violations, []);
  });

  test('the smartcard through nginx (ssl_verify_client, the certificate in a header): to the application', async () => {
    const { page, violations } = await strictPage();
    await page.goto(site.protectedUrl);
    await page.waitForURL(`${portalUrl}/signin?**`);
    await page.getByRole('link', { name: 'Log in with my Care identity' }).click();
    await page.waitForURL(`https://127.0.0.1:${ports.cards}/signin?**`);
    assert.match(await page.locator('main').innerText(), /Alice Smartcard[\s\S]*alice\.proxy@example\.org/);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForURL(site.protectedUrl);
    assert.equal(await page.locator('#email').innerText(), 'alice.proxy@example.org');
    assert.equal(await page.locator('#acr').innerText(), ACR_MFA);
    assert.deepEqual((await page.locator('#amr').innerText()).split(',').sort(), ['hwk', 'mfa', 'sc']);
    assert.deepEqual(violations, []);
  });

  test('a proxy that does not send X-Forwarded-Proto: single sign-on says it is not available, never a 500', async () => {
    // What nginx sends without proxy_set_header X-Forwarded-Proto, for a name other than localhost.
    const answer = await get(
      `https://127.0.0.1:${ports.withoutForwarding}/oidc/.well-known/openid-configuration`,
      { host: 'gatehouse.example.org' },
    );
    assert.equal(answer.status, 503);
    assert.match(answer.body, /Sorry, single sign-on is not available/);
    assert.match(answer.body, /Tell your IT team/);
  });

  function get(url: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      // The certificate names 127.0.0.1; the Host header another name (the proxy's own view).
      const sent = request(
        url,
        { ca: serverCaPem, headers, checkServerIdentity: () => undefined },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (d) => (body += d));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        },
      );
      sent.on('error', reject);
      sent.end();
    });
  }
});
