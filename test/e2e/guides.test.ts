import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startMailApp } from '../../examples/mail/app.ts';
import {
  expectEveryPageChecked,
  expectNoAxeViolations,
  expectPath,
  launchBrowser,
  openPage,
  selfEnrolByTheGuide,
} from '../helpers/browser.ts';
import { autoSelectCertificatePolicy, importPkcs12, nssHome, trustCaInNss } from '../helpers/nss.ts';
import { pkiFolder } from '../helpers/pki.ts';
import { addUser, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { activationCodeOn } from '../helpers/push-journeys.ts';
import { cardPortal, cardWorld } from '../helpers/smartcard.ts';
import { TestDevice } from '../helpers/test-device.ts';

/**
 * The printed guides, screen by screen, by their exact labels, on a PC's window and on a phone's
 * (390 px, the device most staff have): guide 000's self-enrolment and smartcard parts from the
 * portal's front page (`Email`), its authenticator app part (the phone's side spoken by a test
 * device, as the app speaks it), and guide 002 (a phone) from the first page after sign-in, back to
 * the application first selected. Every page is checked with axe.
 */
const VIEWPORTS = [
  { name: 'PC', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

describe('the guides, screen by screen, in Chromium', () => {
  const pki = pkiFolder();
  let portal: TestPortal;
  let browser: Browser;
  let mail: { url: string; close(): Promise<void> };
  let nss: ReturnType<typeof nssHome>;
  let policy: { remove(): void };
  const contexts: BrowserContext[] = [];
  let counter = 0;

  before(async () => {
    const world = cardWorld(pki);
    portal = await cardPortal(world, { singleSignOn: true, developmentPhone: true });
    // Email must be registered with its callback before it runs, and its port is known only
    // once free: a first start finds one, then Email runs on it with its credentials.
    const probe = await startMailApp({
      issuer: `${portal.url}/oidc`,
      clientId: 'probe',
      clientSecret: 'probe',
    });
    const mailUrl = probe.url;
    await probe.close();
    const { application, clientSecret } = await portal.core.applications.add(
      {
        name: 'Email',
        redirectUris: [`${mailUrl}/callback`],
        postLogoutRedirectUris: [`${mailUrl}/`],
        confidential: true,
        requireMfa: false,
        launchUrl: `${mailUrl}/login`,
      },
      'test',
    );
    await portal.core.applications.add(
      {
        name: 'Archive',
        redirectUris: ['https://archive.example.org/callback'],
        postLogoutRedirectUris: [],
        confidential: true,
        requireMfa: false,
      },
      'test',
    );
    mail = await startMailApp({
      issuer: `${portal.url}/oidc`,
      clientId: application.clientId,
      clientSecret: clientSecret!,
      port: Number(new URL(mailUrl).port),
      baseUrl: mailUrl,
    });
    // The smartcard: its certificate in the browser's NSS database, chosen by policy.
    const card = world.ca.issue('carol', { commonName: 'Carol Smartcard', email: 'carol@example.org' });
    await addUser(portal.core, 'carol@example.org', { displayName: 'Carol Example' });
    nss = nssHome();
    trustCaInNss(nss.db, 'Test Server CA', world.serverCa.certFile);
    importPkcs12(nss.db, world.ca.pkcs12(card));
    policy = autoSelectCertificatePolicy(portal.certificateEndpointUrl, 'Test Care Identity CA');
    browser = await launchBrowser({ env: { HOME: nss.home } });
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    policy?.remove();
    nss?.remove();
    await mail?.close();
    await portal?.close();
    pki.remove();
  });

  async function pageAt(
    viewport: (typeof VIEWPORTS)[number],
  ): Promise<{ context: BrowserContext; page: Page }> {
    const opened = await openPage(browser, { viewport: { width: viewport.width, height: viewport.height } });
    contexts.push(opened.context);
    return opened;
  }

  /** The footer ends at the bottom of the window or below it: no band of background under it. */
  async function expectFooterAtTheBottom(page: Page): Promise<void> {
    const gap = await page.evaluate(() => {
      const footer = document.querySelector('footer')?.getBoundingClientRect();
      return footer ? Math.round(window.innerHeight - footer.bottom) : Number.NaN;
    });
    assert.ok(gap <= 0, `the footer ends ${gap}px above the bottom of the window`);
  }

  /**
   * Profile opens its menu, every part of which lies inside the window; axe checks it open; Escape
   * closes it and puts the focus back on Profile.
   */
  async function checkProfileMenu(page: Page): Promise<void> {
    const nav = page.getByRole('navigation', { name: 'Main' });
    const profile = nav.getByText('Profile', { exact: true });
    const myProfile = nav.getByRole('link', { name: 'My Profile', exact: true });
    await profile.click();
    await myProfile.waitFor({ state: 'visible' });
    const outside = await page.evaluate(() => {
      const menu = document.querySelector('details.gh-menu');
      const parts = menu ? [menu, ...menu.querySelectorAll('*')] : [];
      return parts
        .map((element) => ({ element, box: element.getBoundingClientRect() }))
        .filter(
          ({ box }) =>
            box.width === 0 ||
            box.left < 0 ||
            box.top < 0 ||
            box.right > document.documentElement.clientWidth ||
            box.bottom > window.innerHeight,
        )
        .map(({ element, box }) => `${element.outerHTML.slice(0, 60)} at ${JSON.stringify(box)}`);
    });
    assert.ok(
      outside.length === 0,
      `parts of the open Profile menu outside the window:\n${outside.join('\n')}`,
    );
    // Nothing of the page runs wider than the window (no sideways scrolling on a phone).
    assert.equal(
      await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth),
      true,
      'the page is no wider than the window',
    );
    await expectNoAxeViolations(page);
    await page.keyboard.press('Escape');
    await myProfile.waitFor({ state: 'hidden' });
    assert.equal(
      await page.evaluate(() => document.activeElement?.classList.contains('gh-menu__toggle')),
      true,
      'Escape puts the focus back on Profile',
    );
    // A tap may leave the focus on the page rather than on Profile: Escape closes the menu all the same.
    await profile.click();
    await myProfile.waitFor({ state: 'visible' });
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.press('Escape');
    await myProfile.waitFor({ state: 'hidden' });
  }

  /** Guide 000, smartcard part, steps 1-2: the portal's front page, then `Email`. */
  async function selectEmail(page: Page): Promise<void> {
    await page.goto(`${portal.url}/`);
    expectPath(page, '/');
    await expectNoAxeViolations(page);
    await expectFooterAtTheBottom(page);
    const applications = page.locator('.gh-applications a');
    assert.deepEqual(await applications.allInnerTexts(), ['Email', 'Archive'], 'Email first');
    await page.getByRole('link', { name: 'Email', exact: true }).click();
    await page.waitForURL((u) => u.pathname === '/signin');
    await expectNoAxeViolations(page);
  }

  /** Back in Email, signed in: its inbox. */
  async function expectInEmail(page: Page, email: string): Promise<void> {
    await page.waitForURL(`${mail.url}/`);
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
    assert.match(await page.locator('body').innerText(), new RegExp(email.replace(/\./g, '\\.')));
    await expectNoAxeViolations(page);
  }

  for (const viewport of VIEWPORTS) {
    test(`guide 000, self-enrolment, on a ${viewport.name} (${viewport.width} px): Profile > My Profile > Self-Service > Self-enrol > Confirm`, async () => {
      const email = `guide.enrol${++counter}@example.org`;
      await addUser(portal.core, email);
      const { page } = await pageAt(viewport);
      // Step 1: sign in at the portal (its front page says how).
      await page.goto(`${portal.url}/`);
      await expectNoAxeViolations(page);
      await page.getByRole('link', { name: 'sign in to the portal' }).click();
      expectPath(page, '/signin');
      await expectNoAxeViolations(page);
      await expectFooterAtTheBottom(page);
      await page.getByLabel('Email address', { exact: true }).fill(email);
      await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(`${portal.url}/`);
      await expectNoAxeViolations(page);
      // Step 2: the Profile menu, whole inside the window, closed again with Escape.
      await checkProfileMenu(page);
      // Steps 2-6 by the guide's labels, to `success: MFA enabled successfully for <email>`.
      await selfEnrolByTheGuide(page, email);
      expectEveryPageChecked(page);
    });

    test(`guide 000, smartcard, on a ${viewport.name} (${viewport.width} px): front page > Email > Log in with my Care identity > Next > back in Email`, async () => {
      const { page } = await pageAt(viewport);
      // Steps 1-2: the portal, then `Email`.
      await selectEmail(page);
      // Step 3: `Log in with my Care identity`; the card is read on the certificate endpoint.
      await page.getByRole('link', { name: 'Log in with my Care identity', exact: true }).click();
      await page.waitForURL(`${portal.certificateEndpointUrl}/signin?**`);
      await page.getByRole('heading', { name: 'Log in with my Care identity' }).waitFor();
      assert.match(await page.locator('main').innerText(), /Carol Smartcard[\s\S]*carol@example\.org/);
      await expectNoAxeViolations(page);
      // Step 4: `Next`, and the user is in Email, the application first selected.
      await page.getByRole('button', { name: 'Next', exact: true }).click();
      await expectInEmail(page, 'carol@example.org');
      expectEveryPageChecked(page);
    });

    test(`guide 000, the authenticator app, on a ${viewport.name} (${viewport.width} px): Click me to enrol > Next > Download Now > Next > the number > Notification approved > Next > Done, back in Email`, async () => {
      const email = `guide.app${++counter}@example.org`;
      const account = await addUser(portal.core, email);
      await portal.core.enrolment.enable(account, '127.0.0.1');
      const { page: pc } = await pageAt(viewport);
      await selectEmail(pc);
      await pc.getByLabel('Email address', { exact: true }).fill(email);
      await pc.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
      await pc.getByRole('button', { name: 'Sign in', exact: true }).click();
      await pc.waitForURL((u) => u.pathname === '/mfa/register');
      await expectNoAxeViolations(pc);
      // Step 1: `Click me to enrol for Multi-Factor Authentication`, then `Next`.
      await pc
        .getByRole('link', { name: 'Click me to enrol for Multi-Factor Authentication', exact: true })
        .click();
      expectPath(pc, '/mfa/register/start');
      await expectNoAxeViolations(pc);
      await pc.getByRole('link', { name: 'Next', exact: true }).click();
      expectPath(pc, '/mfa/register/app');
      await expectNoAxeViolations(pc);
      // Step 2: `Download Now` opens the two QR codes (Android left, iPhone right) in a new window.
      const [download] = await Promise.all([
        pc.waitForEvent('popup'),
        pc.getByRole('link', { name: /^Download Now/ }).click(),
      ]);
      await download.waitForLoadState('load');
      await expectNoAxeViolations(download);
      assert.equal(await download.locator('img.gh-qr').count(), 2);
      await download.close();
      // Steps 4-6: `Next`, the QR code to scan (its link, for the phone here), `Next`.
      await pc.getByRole('button', { name: 'Next', exact: true }).click();
      expectPath(pc, '/mfa/register/scan');
      await expectNoAxeViolations(pc);
      await pc.getByText("Can't scan image?", { exact: true }).click();
      const code = activationCodeOn((await pc.locator('#activation-link').getAttribute('href')) ?? '');
      assert.ok(code, 'the scan page shows the activation link');
      await expectNoAxeViolations(pc);
      const phone = await TestDevice.create(portal.app);
      assert.equal((await phone.activate(code)).statusCode, 200);
      await pc.getByRole('button', { name: 'Next', exact: true }).click();
      expectPath(pc, '/mfa/register/number');
      await expectNoAxeViolations(pc);
      // Step 7: the unique number typed in the app, `Yes`; step 8: `Notification approved`, `Next`.
      const number = (await pc.locator('#matching-number').innerText()).trim();
      const [requestId] = await phone.pendingIds();
      assert.equal((await phone.answer(requestId!, 'approve', number)).json().status, 'approved');
      await pc.getByRole('heading', { name: 'Notification approved' }).waitFor();
      assert.match(await pc.title(), /^Notification approved - /);
      await expectNoAxeViolations(pc);
      await pc.getByRole('button', { name: 'Next', exact: true }).click();
      // Steps 8-9: a password of at least 8 characters, `Next`, the key password, `Done`.
      await pc.getByLabel('Insert a password name of at least 8 characters').fill('Mail on my laptop');
      await expectNoAxeViolations(pc);
      await pc.getByRole('button', { name: 'Next', exact: true }).click();
      assert.match(await pc.locator('#key-password').innerText(), /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
      await expectNoAxeViolations(pc);
      await pc.getByRole('link', { name: 'Done', exact: true }).click();
      // Step 9: the message that the app is set up, `Done`, and the user is in Email.
      await pc.getByRole('heading', { name: 'Congratulations, you have successfully set up MFA!' }).waitFor();
      assert.match(
        await pc.locator('main').innerText(),
        /You have finished setting up the Gatehouse Authenticator app\./,
      );
      await expectNoAxeViolations(pc);
      await pc.getByRole('link', { name: 'Done', exact: true }).click();
      await expectInEmail(pc, email);
      expectEveryPageChecked(pc);
    });

    test(`guide 002, a phone, on a ${viewport.name} (${viewport.width} px): from the first page after sign-in to Done, back in Email`, async () => {
      const email = `guide.phone${++counter}@example.org`;
      const account = await addUser(portal.core, email);
      await portal.core.enrolment.enable(account, '127.0.0.1');
      const { context, page: pc } = await pageAt(viewport);
      const phone = await context.newPage();
      await selectEmail(pc);
      // Step 1: sign in; the first page after sign-in offers, at the bottom of its box,
      // `I want to set up a different method`.
      await pc.getByLabel('Email address', { exact: true }).fill(email);
      await pc.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
      await pc.getByRole('button', { name: 'Sign in', exact: true }).click();
      await pc.waitForURL((u) => u.pathname === '/mfa/register');
      await expectNoAxeViolations(pc);
      await pc.getByRole('link', { name: 'I want to set up a different method', exact: true }).click();
      expectPath(pc, '/mfa/register/different');
      await expectNoAxeViolations(pc);
      // Step 2: the drop-down list, nothing chosen yet: `Confirm` now asks for a choice.
      const methods = pc.getByLabel('Choose a different method');
      assert.equal(await methods.inputValue(), '', 'no method is chosen until the user chooses');
      await pc.getByRole('button', { name: 'Confirm', exact: true }).click();
      await pc.getByRole('alert').getByRole('link', { name: 'Select a method' }).waitFor();
      assert.match(await pc.title(), /^Error: /);
      await expectNoAxeViolations(pc);
      // Steps 3-4: `Phone`, `Confirm`.
      await methods.selectOption({ label: 'Phone' });
      await pc.getByRole('button', { name: 'Confirm', exact: true }).click();
      expectPath(pc, '/mfa/register/phone');
      await expectNoAxeViolations(pc);
      // Step 5: the country code, the mobile number (the page's own example), `Call me`, `Next`.
      const example = /For example, (.+)/.exec(await pc.locator('#number-hint').innerText())?.[1]?.trim();
      assert.equal(example, '07700 900 982');
      await pc.getByLabel('Country code').selectOption({ label: 'United Kingdom (+44)' });
      await pc.getByLabel('Phone number').fill(example);
      await pc.getByLabel('Call me').check();
      await pc.getByRole('button', { name: 'Next', exact: true }).click();
      await pc.getByRole('heading', { name: "We're calling +44 7700 900982" }).waitFor();
      await expectNoAxeViolations(pc);
      // Steps 6-7: the call rings; answer it and press #.
      await phone.goto(`${portal.url}/dev/phone`);
      await expectNoAxeViolations(phone);
      await phone.getByRole('button', { name: '#', exact: true }).first().click();
      await phone.waitForLoadState('load');
      // Step 8: `Call answered` (title and heading), then `Next`.
      await pc.getByRole('heading', { name: 'Call answered' }).waitFor();
      assert.match(await pc.title(), /^Call answered - /);
      await expectNoAxeViolations(pc);
      await pc.getByRole('button', { name: 'Next', exact: true }).click();
      // Steps 9-10: a password name of at least 8 characters, `Next`, the key password, `Done`.
      await pc.getByLabel('Insert a password name of at least 8 characters').fill('Mail on my laptop');
      await expectNoAxeViolations(pc);
      await pc.getByRole('button', { name: 'Next', exact: true }).click();
      assert.match(await pc.locator('#key-password').innerText(), /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
      await expectNoAxeViolations(pc);
      await pc.getByRole('link', { name: 'Done', exact: true }).click();
      // Step 11: the confirmation says what was set up (the phone), then `Done`: back in Email.
      await pc.getByRole('heading', { name: 'Congratulations, you have successfully set up MFA!' }).waitFor();
      const finished = await pc.locator('main').innerText();
      assert.match(finished, /You have finished setting up your phone, \+44 7700 900982/);
      assert.doesNotMatch(finished, /Authenticator/);
      await expectNoAxeViolations(pc);
      await pc.getByRole('link', { name: 'Done', exact: true }).click();
      await expectInEmail(pc, email);
      expectEveryPageChecked(pc);
    });
  }
});
