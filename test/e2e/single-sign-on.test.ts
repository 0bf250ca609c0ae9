import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startMailApp } from '../../examples/mail/app.ts';
import { systemClock } from '../../src/core/clock.ts';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import { expectNoAxeViolations, expectPath, launchBrowser, openPage } from '../helpers/browser.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';
import { TestDevice } from '../helpers/test-device.ts';

/**
 * Single sign-on from the user's side: start at the example application "Mail", sign in at the
 * portal (password, then the number or a code), land back in Mail signed in; sign out.
 */
describe('single sign-on from the Mail example application', () => {
  let portal: TestPortal;
  let browser: Browser;
  let mail: { url: string; close(): Promise<void> };
  const contexts: BrowserContext[] = [];
  const pages: Page[] = [];

  before(async () => {
    [portal, browser] = await Promise.all([
      startTestPortal({ listen: true, singleSignOn: true }),
      launchBrowser(),
    ]);
    // Mail must be registered with its callback before it runs, and its port is free only once
    // known: a first start finds a free port, then Mail runs on it with its credentials.
    const probe = await startMailApp({
      issuer: `${portal.url}/oidc`,
      clientId: 'probe',
      clientSecret: 'probe',
    });
    const mailUrl = probe.url;
    await probe.close();
    const { application, clientSecret } = await portal.core.applications.add(
      {
        name: 'Mail',
        redirectUris: [`${mailUrl}/callback`],
        postLogoutRedirectUris: [`${mailUrl}/`],
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
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await mail?.close();
    await portal?.close();
  });

  async function browserAtMail(): Promise<Page> {
    const { context, page } = await openPage(browser);
    contexts.push(context);
    pages.push(page);
    await page.goto(mail.url);
    await expectNoAxeViolations(page);
    await page.getByRole('button', { name: 'Sign in' }).click();
    expectPath(page, '/signin');
    await expectNoAxeViolations(page);
    return page;
  }

  async function typePassword(page: Page, email: string) {
    await page.getByLabel('Email address', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForLoadState('load');
  }

  async function expectInbox(page: Page, words: RegExp) {
    await page.waitForURL(`${mail.url}/`, { timeout: 10_000 });
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
    await expectNoAxeViolations(page);
    assert.match(await page.locator('#how').innerText(), words);
  }

  test('password and the two-digit number: back in Mail, signed in with MFA; then sign out', async () => {
    const { email, phone } = await pushJourneys({
      core: portal.core,
      pcApp: portal.app,
      clock: systemClock,
    }).registered();
    const page = await browserAtMail();
    await typePassword(page, email);
    expectPath(page, '/mfa/verify');
    await expectNoAxeViolations(page);
    const number = await page.locator('#matching-number').innerText();
    const listed = (await phone.requests()).json() as { requests: { id: string; application: string }[] };
    assert.equal(listed.requests[0]?.application, 'Mail');
    await phone.answer(listed.requests[0]!.id, 'approve', number);
    await expectInbox(
      page,
      /password and approval in the authenticator app \(amr: pwd, mfa, swk; acr: urn:gatehouse:acr:mfa\)/,
    );
    assert.match(await page.locator('#user').innerText(), new RegExp(email.replace('.', '\\.')));

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign out' }).waitFor();
    await expectNoAxeViolations(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${mail.url}/`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    // Signed out of the portal too: its pages ask for the sign-in again, and its front page is the
    // signed-out one, with Mail to select.
    await page.goto(`${portal.url}/profile`);
    expectPath(page, '/signin');
    await page.goto(`${portal.url}/`);
    expectPath(page, '/');
    await page.getByRole('link', { name: 'Mail', exact: true }).waitFor();
    await page.getByRole('link', { name: 'sign in to the portal' }).waitFor();
    await expectNoAxeViolations(page);
  });

  test('a verification code instead of the app: back in Mail', async () => {
    const { email, phone } = await pushJourneys({
      core: portal.core,
      pcApp: portal.app,
      clock: systemClock,
    }).registered();
    const page = await browserAtMail();
    await typePassword(page, email);
    await page.getByRole('link', { name: 'Use a verification code' }).click();
    await expectNoAxeViolations(page);
    await page.getByLabel('Verification code').fill(codeAt(phone.totp!.secret, new Date()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expectInbox(page, /verification code \(amr: pwd, mfa, otp/);
  });

  test('the hand-off page, held before it moves on, passes axe, and its link reaches Mail', async () => {
    const email = 'held.hand-off@example.org';
    await addUser(portal.core, email);
    const page = await browserAtMail();
    // The browser's route sees only the first request of a redirect chain (the password's form), so
    // the handler follows the chain itself (with the context's cookies) and answers with its end,
    // the hand-off page, without its refresh: the page stays to be checked and followed by hand.
    let held = 0;
    await page.route(`${portal.url}/signin`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const response = await route.fetch();
      const body = await response.text();
      const still = body.replace(/<meta http-equiv="refresh"[^>]*>/, '');
      if (still !== body) held += 1;
      return route.fulfill({ response, body: still });
    });
    await typePassword(page, email);
    await page.getByRole('heading', { name: 'Signing you in' }).waitFor();
    assert.equal(held, 1, 'the hand-off page was held once');
    assert.match(await page.locator('main').innerText(), /You are being taken back to the application/);
    await expectNoAxeViolations(page);
    await page.unrouteAll();
    await page.getByRole('link', { name: 'Continue' }).click();
    await expectInbox(page, /amr: pwd/);
  });

  test('MFA enabled but nothing registered: the wizard, then "taken to the application initially selected"', async () => {
    const account = await addUser(portal.core, 'wizard.from.mail@example.org');
    await portal.core.enrolment.enable(account, '127.0.0.1');
    const page = await browserAtMail();
    await typePassword(page, account.email);
    expectPath(page, '/mfa/register');
    await page.getByRole('link', { name: 'Click me to enrol for Multi-Factor Authentication' }).click();
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'Next' }).click();
    await expectNoAxeViolations(page);
    await page.getByRole('button', { name: 'Next' }).click();
    await expectNoAxeViolations(page);
    await page.getByText("Can't scan image?").click();
    const code = (await page.locator('#activation-code').innerText()).replaceAll('-', '');
    const device = await TestDevice.create(portal.app);
    assert.equal((await device.activate(code)).statusCode, 200);
    await page.getByRole('button', { name: 'Next' }).click();
    await expectNoAxeViolations(page);
    const number = await page.locator('#matching-number').innerText();
    const [requestId] = await device.pendingIds();
    await device.answer(requestId!, 'approve', number);
    await page.getByRole('heading', { name: 'Notification approved' }).waitFor({ timeout: 10_000 });
    await expectNoAxeViolations(page);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Insert a password name of at least 8 characters').fill('Mail on my phone');
    await page.getByRole('button', { name: 'Next' }).click();
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'Done' }).click();
    await page.getByRole('heading', { name: 'Congratulations, you have successfully set up MFA!' }).waitFor();
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'Done' }).click();
    await expectInbox(page, /approval in the authenticator app/);
  });
});
