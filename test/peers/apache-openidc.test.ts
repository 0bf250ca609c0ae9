import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { systemClock } from '../../src/core/clock.ts';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import type { Store } from '../../src/core/store.ts';
import { ACR_MFA, ACR_PASSWORD } from '../../src/oidc/acr.ts';
import { type Apache, type ApacheSite, apacheSites, startApache } from '../helpers/apache.ts';
import { expectNoAxeViolations, launchBrowser } from '../helpers/browser.ts';
import { autoSelectCertificatePolicy, importPkcs12, nssHome, trustCaInNss } from '../helpers/nss.ts';
import { pkiFolder } from '../helpers/pki.ts';
import { addUser, insertCodeApp, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';
import { cardPortal, cardWorld } from '../helpers/smartcard.ts';
import { openStrictPage } from '../helpers/strict-browser.ts';
import { TestDevice } from '../helpers/test-device.ts';

/**
 * Single sign-on to Apache httpd with mod_auth_openidc (Debian's packages) protecting a page on
 * another port, so another origin than the portal's, in Chromium enforcing the portal's CSP as
 * every user's browser does. Each way of finishing a sign-in lands on the protected page, which
 * prints the acr and amr mod_auth_openidc received; logout comes back to the application; an
 * application that asks for MFA (acr_values) refuses an account without it, saying why.
 * One Apache for the file, with two sites: "Intranet" asks for nothing, "Payroll" for MFA.
 */
describe('Apache with mod_auth_openidc as a relying party, in Chromium with the CSP enforced', () => {
  const pki = pkiFolder();
  let portal: TestPortal;
  let apache: Apache;
  let intranet: ApacheSite;
  let payroll: ApacheSite;
  let browser: Browser;
  let nss: ReturnType<typeof nssHome>;
  let policy: { remove(): void };
  const contexts: BrowserContext[] = [];
  let counter = 0;

  before(async () => {
    const world = cardWorld(pki);
    const alice = world.ca.issue('alice', { commonName: 'Alice Smartcard', email: 'alice.card@example.org' });
    portal = await cardPortal(world, { singleSignOn: true, developmentPhone: true });
    await addUser(portal.core, 'alice.card@example.org', { displayName: 'Alice Card' });
    [intranet, payroll] = (await apacheSites(2)) as [ApacheSite, ApacheSite];
    const clients = [];
    for (const [name, site] of [
      ['Intranet', intranet],
      ['Payroll', payroll],
    ] as const) {
      const { application, clientSecret } = await portal.core.applications.add(
        {
          name,
          redirectUris: [site.redirectUri],
          postLogoutRedirectUris: [site.loggedOutUrl],
          confidential: true,
          requireMfa: false,
        },
        'test',
      );
      clients.push({ clientId: application.clientId, clientSecret: clientSecret! });
    }
    clients[1] = { ...clients[1]!, authRequestParams: `acr_values=${ACR_MFA}` };
    apache = await startApache(`${portal.url}/oidc`, [intranet, payroll], clients);
    nss = nssHome();
    trustCaInNss(nss.db, 'Test Server CA', world.serverCa.certFile);
    importPkcs12(nss.db, world.ca.pkcs12(alice));
    policy = autoSelectCertificatePolicy(portal.certificateEndpointUrl, 'Test Care Identity CA');
    browser = await launchBrowser({ env: { HOME: nss.home } });
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    policy?.remove();
    nss?.remove();
    await apache?.stop();
    await portal?.close();
    pki.remove();
  });

  const newEmail = (what: string) => `${what}${++counter}@example.org`;

  /** A fresh browser at the application's protected page, sent on to the portal's sign-in page. */
  async function atApplication(site: ApacheSite) {
    const strict = await openStrictPage(browser);
    contexts.push(strict.context);
    const response = await strict.page.goto(site.protectedUrl);
    await strict.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.ok(strict.page.url().startsWith(`${portal.url}/signin`), strict.page.url());
    const csp = response?.headers()['content-security-policy'] ?? '';
    assert.match(csp, /form-action 'self'(;|$)/, `the portal's CSP, enforced: ${csp}`);
    return strict;
  }

  async function typePassword(page: Page, email: string) {
    await page.getByLabel('Email address', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  /** On the application's protected page, with the claims mod_auth_openidc got. */
  async function expectProtectedPage(
    strict: { page: Page; violations: string[] },
    site: ApacheSite,
    email: string,
    acr: string,
    amr: string[],
  ) {
    const { page } = strict;
    await page.waitForURL(site.protectedUrl, { timeout: 15_000 });
    await page.getByRole('heading', { name: 'Protected page' }).waitFor();
    assert.equal(await page.locator('#email').innerText(), email);
    assert.equal(await page.locator('#acr').innerText(), acr);
    assert.deepEqual((await page.locator('#amr').innerText()).split(',').sort(), [...amr].sort());
    assert.deepEqual(strict.violations, [], 'no CSP violation on the way');
  }

  test('a user without MFA: the password only, then the protected page (acr password, amr pwd)', async () => {
    const email = newEmail('password.only');
    await addUser(portal.core, email);
    const strict = await atApplication(intranet);
    await typePassword(strict.page, email);
    await expectProtectedPage(strict, intranet, email, ACR_PASSWORD, ['pwd']);
  });

  test('the two-digit number approved in the app: the protected page with MFA', async () => {
    const { email, phone } = await registeredInApp();
    const strict = await atApplication(intranet);
    await typePassword(strict.page, email);
    const number = await strict.page.locator('#matching-number').innerText();
    const listed = (await phone.requests()).json() as { requests: { id: string }[] };
    await phone.answer(listed.requests[0]!.id, 'approve', number);
    await expectProtectedPage(strict, intranet, email, ACR_MFA, ['pwd', 'mfa', 'swk']);
  });

  test('a verification code: the protected page with MFA', async () => {
    const { email, phone } = await registeredInApp();
    const strict = await atApplication(intranet);
    await typePassword(strict.page, email);
    await strict.page.getByRole('link', { name: 'Use a verification code' }).click();
    await strict.page.getByLabel('Verification code').fill(codeAt(phone.totp!.secret, new Date()));
    await strict.page.getByRole('button', { name: 'Verify' }).click();
    await expectProtectedPage(strict, intranet, email, ACR_MFA, ['pwd', 'mfa', 'otp']);
  });

  test('a phone call answered with #: the protected page with MFA', async () => {
    const email = newEmail('phone.call');
    await withPhone(email, '+447400700301');
    const strict = await atApplication(intranet);
    await typePassword(strict.page, email);
    await strict.page.getByRole('heading', { name: "We're calling +44 7400 700301" }).waitFor();
    const phone = await strict.context.newPage();
    await phone.goto(`${portal.url}/dev/phone`);
    await phone.getByRole('button', { name: '#', exact: true }).first().click();
    await expectProtectedPage(strict, intranet, email, ACR_MFA, ['pwd', 'mfa', 'tel']);
  });

  test('a code sent by text message: the protected page with MFA', async () => {
    const email = newEmail('phone.text');
    await withPhone(email, '+447400700302');
    const strict = await atApplication(intranet);
    await typePassword(strict.page, email);
    await strict.page.getByRole('button', { name: 'Text me a code instead' }).click();
    const phone = await strict.context.newPage();
    await phone.goto(`${portal.url}/dev/phone`);
    const text = await phone.locator('.gh-text-message').first().innerText();
    const code = /^(\d{6}) is your/.exec(text)?.[1];
    assert.ok(code, text);
    await strict.page.getByLabel('Code from the text message').fill(code);
    await strict.page.getByRole('button', { name: 'Verify' }).click();
    await expectProtectedPage(strict, intranet, email, ACR_MFA, ['pwd', 'mfa', 'sms']);
  });

  test('Log in with my Care identity (a smartcard): the protected page with MFA', async () => {
    const strict = await atApplication(intranet);
    await strict.page.getByRole('link', { name: 'Log in with my Care identity' }).click();
    await strict.page.waitForURL(`${portal.certificateEndpointUrl}/signin?**`);
    await strict.page.getByRole('button', { name: 'Next' }).click();
    await expectProtectedPage(strict, intranet, 'alice.card@example.org', ACR_MFA, ['sc', 'hwk', 'mfa']);
  });

  test("the registration wizard's last Done takes the user to the application", async () => {
    const email = newEmail('wizard');
    const account = await addUser(portal.core, email);
    await portal.core.enrolment.enable(account, '127.0.0.1');
    const { page, ...rest } = await atApplication(intranet);
    await typePassword(page, email);
    await page.getByRole('link', { name: 'Click me to enrol for Multi-Factor Authentication' }).click();
    await page.getByRole('link', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText("Can't scan image?").click();
    const code = (await page.locator('#activation-code').innerText()).replaceAll('-', '');
    const device = await TestDevice.create(portal.app);
    assert.equal((await device.activate(code)).statusCode, 200);
    await page.getByRole('button', { name: 'Next' }).click();
    const number = await page.locator('#matching-number').innerText();
    const [requestId] = await device.pendingIds();
    await device.answer(requestId!, 'approve', number);
    await page.getByRole('heading', { name: 'Notification approved' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Insert a password name of at least 8 characters').fill('Mail on my phone');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('link', { name: 'Done' }).click();
    await page.getByRole('heading', { name: 'Congratulations, you have successfully set up MFA!' }).waitFor();
    await page.getByRole('link', { name: 'Done' }).click();
    await expectProtectedPage({ page, ...rest }, intranet, email, ACR_MFA, ['pwd', 'mfa', 'swk']);
  });

  test('an application asking for MFA steps a password-only session up, then lets it in', async () => {
    const email = newEmail('step.up');
    const account = await addUser(portal.core, email);
    // MFA not enforced on the account, but a code app registered (data an older Gatehouse left).
    const { secret } = await insertCodeApp(portal.store as Store, account.id);
    const strict = await atApplication(intranet);
    await typePassword(strict.page, email);
    await expectProtectedPage(strict, intranet, email, ACR_PASSWORD, ['pwd']);
    await strict.page.goto(payroll.protectedUrl);
    await strict.page.getByLabel('Verification code').fill(codeAt(secret, new Date()));
    await strict.page.getByRole('button', { name: 'Verify' }).click();
    await expectProtectedPage(strict, payroll, email, ACR_MFA, ['pwd', 'mfa', 'otp']);
  });

  test('an application asking for MFA refuses an account without it, and says why', async () => {
    const email = newEmail('no.mfa');
    await addUser(portal.core, email);
    const strict = await atApplication(payroll);
    await typePassword(strict.page, email);
    // The portal says why, and what to do, before the application is told (access_denied).
    await strict.page.getByRole('heading', { name: 'Payroll needs multi-factor authentication' }).waitFor();
    assert.match(await strict.page.locator('main').innerText(), /Self-Service, and then Self-enrol/);
    assert.deepEqual(strict.violations, []);
    // The hand-off page, as every user sees it (axe runs on a copy: this page keeps its CSP).
    await expectNoAxeViolations(strict.page);
    strict.violations.length = 0;
    await strict.page.getByRole('link', { name: 'Return to Payroll' }).click();
    await strict.page.waitForURL(`${payroll.redirectUri}?**`);
    const answer = new URL(strict.page.url()).searchParams;
    assert.equal(answer.get('error'), 'access_denied');
    assert.match(answer.get('error_description') ?? '', /requires multi-factor authentication/);
    assert.deepEqual(strict.violations, []);
  });

  test("logout from the application: the portal's Sign out, then back at the application", async () => {
    const email = newEmail('logout');
    await addUser(portal.core, email);
    const strict = await atApplication(intranet);
    await typePassword(strict.page, email);
    await expectProtectedPage(strict, intranet, email, ACR_PASSWORD, ['pwd']);
    await strict.page.goto(intranet.logoutUrl);
    await strict.page.getByRole('heading', { name: 'Sign out' }).waitFor();
    await strict.page.getByRole('button', { name: 'Sign out' }).click();
    await strict.page.waitForURL(intranet.loggedOutUrl);
    await strict.page.getByRole('heading', { name: 'Signed out of the application' }).waitFor();
    assert.deepEqual(strict.violations, []);
    // Signed out of the portal too: the protected page asks for the password again.
    await strict.page.goto(intranet.protectedUrl);
    await strict.page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  /** A user with the authenticator app registered (number matching and codes). */
  function registeredInApp() {
    return pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock }).registered();
  }

  /** A user with MFA on and a UK mobile as the default method (the development phone answers it). */
  async function withPhone(email: string, number: string) {
    const account = await addUser(portal.core, email);
    await portal.core.enrolment.enable(account, '127.0.0.1');
    await portal.store.methods.insert({
      id: crypto.randomUUID(),
      accountId: account.id,
      kind: 'phone',
      label: number.replace(/^\+44(\d{4})(\d{6})$/, '+44 $1 $2'),
      status: 'active',
      isDefault: true,
      createdAt: new Date(),
      lastUsedAt: null,
      data: { number, country: 'GB', office: false },
    });
  }
});
