import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { startMailApp } from '../../examples/mail/app.ts';
import { CHROMIUM_PATH } from '../helpers/browser.ts';
import { gatehouse } from '../helpers/cli.ts';
import { eventually } from '../helpers/eventually.ts';
import { TEST_PASSWORD } from '../helpers/portal.ts';
import { type PortalProcess, portalProcess, send } from '../helpers/portal-process.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { openStrictPage } from '../helpers/strict-browser.ts';

/**
 * The README's quick start as written: the built `gatehouse serve` with its defaults (cookieSecure
 * on), reached at http://localhost, `users add`, `apps add` and the Mail example; single sign-on
 * in Chromium with the CSP enforced. Then what the operator sees when a proxy in front forgets
 * X-Forwarded-Proto: a page, and a log line naming the settings, never a 500.
 */
describe('the quick start: npm start on http://localhost, then single sign-on to the Mail example', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-quick-start-'));
  let portal: PortalProcess;
  let mail: { url: string; close(): Promise<void> };
  let browser: Browser;
  let port = 0;
  const env = () => ({ GATEHOUSE_DATA_DIR: dataDir });

  before(async () => {
    port = await freeTcpPort();
    const mailPort = await freeTcpPort();
    // The defaults, as `npm start` has them: cookies Secure (and __Host- prefixed).
    portal = portalProcess(port, {
      ...env(),
      GATEHOUSE_HOST: 'localhost',
      GATEHOUSE_COOKIE_SECURE: 'true',
      GATEHOUSE_LOG_LEVEL: 'info',
    });
    await portal.start();
    const added = await gatehouse(
      ['users', 'add', 'pat.doe@example.org', '--name', 'Pat Doe'],
      env(),
      `${TEST_PASSWORD}\n`,
    );
    assert.equal(added.code, 0, added.stderr);
    const app = await gatehouse(
      [
        'apps',
        'add',
        '--name',
        'Email',
        '--redirect-uri',
        `http://localhost:${mailPort}/callback`,
        '--post-logout-redirect-uri',
        `http://localhost:${mailPort}/`,
      ],
      env(),
    );
    assert.equal(app.code, 0, app.stderr);
    const clientId = /client_id:\s+(\S+)/.exec(app.stdout)?.[1];
    const clientSecret = /client_secret:\s+(\S+)/.exec(app.stdout)?.[1];
    assert.ok(clientId && clientSecret, app.stdout);
    mail = await startMailApp({
      issuer: `http://localhost:${port}/oidc`,
      clientId,
      clientSecret,
      port: mailPort,
      baseUrl: `http://localhost:${mailPort}`,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await mail?.close();
    await portal?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('Sign in on Mail, the password at the portal, back in Mail signed in; Secure cookies on http://localhost', async () => {
    const { context, page, violations } = await openStrictPage(browser);
    await page.goto(mail.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`http://localhost:${port}/signin?**`).catch(async (error) => {
      assert.fail(`${error}\n${page.url()}\n${await page.content()}\n${portal.stdout()}`);
    });
    await page.getByLabel('Email address', { exact: true }).fill('pat.doe@example.org');
    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${mail.url}/`);
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
    assert.match(await page.locator('#how').innerText(), /amr: pwd/);
    const cookies = await context.cookies(`http://localhost:${port}`);
    assert.ok(
      cookies.some((c) => c.name === '__Host-gatehouse_session' && c.secure),
      cookies.map((c) => c.name).join(', '),
    );
    assert.deepEqual(violations, []);
    await context.close();
    assert.doesNotMatch(portal.stdout(), /"level":50/, 'no error logged');
  });

  test('plain HTTP to another name (a proxy without X-Forwarded-Proto): a page and a log line, not a 500', async () => {
    const answer = await send(portal.url, {
      url: '/oidc/.well-known/openid-configuration',
      headers: { host: 'gatehouse.example.org' },
    });
    assert.equal(answer.statusCode, 503);
    assert.match(answer.body, /Sorry, single sign-on is not available/);
    // The server's log reaches this process through a pipe, a moment after the answer.
    await eventually('the log names cookieSecure', () =>
      /cookieSecure \(GATEHOUSE_COOKIE_SECURE\) is true/.test(portal.stdout()),
    );
    assert.match(portal.stdout(), /X-Forwarded-Proto: https/);
    assert.match(portal.stdout(), /trustProxy \(GATEHOUSE_TRUST_PROXY\)/);
  });
});
