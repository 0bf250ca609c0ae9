import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startMailApp } from '../../examples/mail/app.ts';
import { systemClock } from '../../src/core/clock.ts';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import {
  expectEveryPageChecked,
  expectNoAxeViolations,
  expectPath,
  launchBrowser,
  openPage,
  signIn,
  signOut,
} from '../helpers/browser.ts';
import { manualClock } from '../helpers/clock.ts';
import { insertPhone, recordingTelephony } from '../helpers/own-account.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';
import type { TestDevice } from '../helpers/test-device.ts';

const NEW_PASSWORD = 'Quiet-Lantern-Orchard-7';

/**
 * The user's own account in Chromium, with axe on every page: change password, forgotten
 * password with two factors, My sign-ins with `This wasn't me`, and Sign out everywhere ending
 * another browser's portal and single sign-on sessions.
 */
describe('the user’s own account', () => {
  let portal: TestPortal;
  let browser: Browser;
  let mail: { url: string; close(): Promise<void> };
  const contexts: BrowserContext[] = [];
  const phones = recordingTelephony();

  before(async () => {
    [portal, browser] = await Promise.all([
      startTestPortal({ listen: true, singleSignOn: true, telephony: phones.telephony }),
      launchBrowser(),
    ]);
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

  async function newPage(): Promise<Page> {
    const { context, page } = await openPage(browser);
    contexts.push(context);
    return page;
  }

  const registered = () =>
    pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock }).registered();

  /** The password, then the two-digit number approved in the app: the PC moves on by itself. */
  async function approveNumber(page: Page, device: TestDevice) {
    expectPath(page, '/mfa/verify');
    await expectNoAxeViolations(page);
    const number = await page.locator('#matching-number').innerText();
    const [requestId] = await device.pendingIds();
    await device.answer(requestId!, 'approve', number);
  }

  async function signInWithApp(page: Page, email: string, device: TestDevice, password = TEST_PASSWORD) {
    await signIn(page, portal.url, email, password);
    await approveNumber(page, device);
    await page.waitForURL(`${portal.url}/`, { timeout: 10_000 });
    await expectNoAxeViolations(page);
  }

  async function openFromProfileMenu(page: Page, name: string, path: string) {
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByText('Profile', { exact: true }).click();
    await nav.getByRole('link', { name, exact: true }).click();
    await page.waitForLoadState('load');
    expectPath(page, path);
    await expectNoAxeViolations(page);
  }

  test('change password: Profile > Security info > Change password, then signed out everywhere else', async () => {
    const { email, phone } = await registered();
    const elsewhere = await newPage();
    await signInWithApp(elsewhere, email, phone);
    const page = await newPage();
    await signInWithApp(page, email, phone);
    await openFromProfileMenu(page, 'Security info', '/profile/security-info');
    await page.getByRole('link', { name: 'Change password' }).click();
    expectPath(page, '/profile/security-info/password');
    await expectNoAxeViolations(page);
    await page.getByLabel('Current password').fill(TEST_PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill('password1');
    await page.getByLabel('Confirm new password').fill('password1');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('This password is too common').first().waitFor();
    await expectNoAxeViolations(page);
    await page.getByLabel('Current password').fill(TEST_PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
    await page.getByLabel('Yes, sign out everywhere else').check();
    await page.getByRole('button', { name: 'Change password' }).click();
    expectPath(page, '/profile/security-info');
    await page.getByText('Your password was changed. You were signed out everywhere else.').waitFor();
    await expectNoAxeViolations(page);
    await elsewhere.goto(`${portal.url}/profile`);
    expectPath(elsewhere, '/signin');
    await expectNoAxeViolations(elsewhere);
    await signOut(page);
    await signInWithApp(page, email, phone, NEW_PASSWORD);
    expectEveryPageChecked(page);
    expectEveryPageChecked(elsewhere);
  });

  test('forgotten password: a code from the app and a text message, then a new password; MFA stays', async () => {
    const { email, phone } = await registered();
    const account = (await portal.core.accounts.find(email))!;
    await insertPhone(portal.store, account.id, '+447700900456');
    const page = await newPage();
    await page.goto(`${portal.url}/signin`);
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'Forgotten your password?' }).click();
    expectPath(page, '/signin/forgot');
    await expectNoAxeViolations(page);
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Prove it is you' }).waitFor();
    await page.getByText('step 1 of 2').waitFor();
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'Use a verification code from the app' }).click();
    await expectNoAxeViolations(page);
    await page.getByLabel('Verification code').fill(codeAt(phone.totp!.secret, new Date()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByText('Done: the authenticator app. Now use a different method.').waitFor();
    await expectNoAxeViolations(page);
    // The app's own request is the same device: no longer offered.
    assert.equal(
      await page.getByRole('button', { name: 'Approve a request in the authenticator app' }).count(),
      0,
    );
    await page.getByRole('button', { name: 'Text me a code' }).click();
    await page.getByRole('heading', { name: 'Enter the code we texted you' }).waitFor();
    await expectNoAxeViolations(page);
    await page.getByLabel('Verification code').fill(phones.lastCode('+447700900456'));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await expectNoAxeViolations(page);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Reset password' }).click();
    await page.getByRole('heading', { name: 'Your password has been reset' }).waitFor();
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'Sign in' }).click();
    expectPath(page, '/signin');
    // The second factor is still asked for after the reset.
    await signInWithApp(page, email, phone, NEW_PASSWORD);
    expectEveryPageChecked(page);
  });

  test('forgotten password: the phone called and # pressed, the waiting page moves on by itself, then the app', async () => {
    const { email, phone } = await registered();
    const account = (await portal.core.accounts.find(email))!;
    await insertPhone(portal.store, account.id, '+447700900457');
    const page = await newPage();
    await page.goto(`${portal.url}/signin/forgot`);
    await expectNoAxeViolations(page);
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('step 1 of 2').waitFor();
    await page.getByRole('button', { name: 'Call my phone' }).click();
    await page.getByRole('heading', { name: /We're calling/ }).waitFor();
    await expectNoAxeViolations(page);
    await phones.answerLastCall(portal.core);
    await page.getByText('Done: your phone. Now use a different method.').waitFor();
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'Use a verification code from the app' }).click();
    await expectNoAxeViolations(page);
    await page.getByLabel('Verification code').fill(codeAt(phone.totp!.secret, new Date()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await expectNoAxeViolations(page);
    expectEveryPageChecked(page);
  });

  test("My sign-ins shows a failed attempt from another browser, and This wasn't me ends its session", async () => {
    const { email, phone } = await registered();
    const page = await newPage();
    await signInWithApp(page, email, phone);
    const other = await newPage();
    await signIn(other, portal.url, email, 'not-the-password');
    await other.getByText('The email address or password is not correct').first().waitFor();
    await expectNoAxeViolations(other);
    await signInWithApp(other, email, phone);

    await openFromProfileMenu(page, 'My sign-ins', '/profile/sign-ins');
    const failed = page.getByRole('row').filter({ hasText: 'Wrong password' });
    assert.equal(await failed.count(), 1);
    assert.match(await failed.innerText(), /Gatehouse portal\s+Password\s+127\.0\.0\.1\s+Wrong password/);
    assert.ok((await page.getByRole('row').filter({ hasText: 'Authenticator app' }).count()) >= 2);
    await failed.getByRole('button', { name: /This wasn't me/ }).click();
    expectPath(page, '/profile/security-info/password');
    await page
      .getByText('Every other session of your account has ended. Change your password now.')
      .waitFor();
    await expectNoAxeViolations(page);
    await other.goto(`${portal.url}/profile`);
    expectPath(other, '/signin');
    await expectNoAxeViolations(other);
    await page.goto(`${portal.url}/profile/sign-ins`);
    await page.getByRole('row').filter({ hasText: 'Wrong password (reported)' }).waitFor();
    await expectNoAxeViolations(page);
    const kinds = (await portal.store.notices.listForEmail(email)).map((n) => n.kind);
    assert.ok(kinds.includes('signin_reported'));
    expectEveryPageChecked(page);
    expectEveryPageChecked(other);
  });

  test('Sign out everywhere ends the portal and single sign-on sessions of a second browser', async () => {
    const { email, phone } = await registered();
    const account = (await portal.core.accounts.find(email))!;
    // The second browser signs in to Mail through the portal.
    const other = await newPage();
    await other.goto(mail.url);
    await expectNoAxeViolations(other);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.getByLabel('Email address', { exact: true }).fill(email);
    await other.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await other.getByRole('button', { name: 'Sign in', exact: true }).click();
    await approveNumber(other, phone);
    await other.waitForURL(`${mail.url}/`, { timeout: 10_000 });
    await other.getByRole('heading', { name: 'Inbox' }).waitFor();
    await expectNoAxeViolations(other);

    const page = await newPage();
    await signInWithApp(page, email, phone);
    await openFromProfileMenu(page, 'My sign-ins', '/profile/sign-ins');
    await page.getByRole('link', { name: 'Sign out everywhere' }).click();
    expectPath(page, '/profile/sign-out-everywhere');
    await expectNoAxeViolations(page);
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    expectPath(page, '/signin');
    await expectNoAxeViolations(page);

    // Its portal session has ended...
    await other.goto(`${portal.url}/profile`);
    expectPath(other, '/signin');
    await expectNoAxeViolations(other);
    // ...and so has its single sign-on session: once Mail forgets its own session, its Sign in
    // asks for the password again instead of coming straight back.
    await other.context().clearCookies({ name: 'mail_session' });
    await other.goto(mail.url);
    await other.getByRole('button', { name: 'Sign in' }).click();
    await other.waitForURL((url) => url.pathname === '/signin');
    await expectNoAxeViolations(other);
    assert.equal(
      await portal.store.oidcModels.removeAllForAccount(account.id),
      0,
      'nothing of single sign-on is left',
    );
    const [ended] = await portal.core.audit
      .list({ email, limit: 5 })
      .then((events) => events.filter((e) => e.type === 'session.ended_everywhere'));
    assert.equal(ended?.detail.reason, 'user_request');
    assert.ok(Number(ended?.detail.singleSignOn) >= 1, 'single sign-on records were removed');
    assert.ok(Number(ended?.detail.portalSessions) >= 2);
    expectEveryPageChecked(page);
  });
});

/**
 * The registration nudge: a user whose only method is the phone is asked after each sign-in to set
 * up the authenticator app; `Not now` three times, a day each; the fourth time it must be done.
 */
describe('the registration nudge', () => {
  let portal: TestPortal;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const phones = recordingTelephony();
  const clock = manualClock(new Date().toISOString());

  before(async () => {
    [portal, browser] = await Promise.all([
      startTestPortal({
        listen: true,
        clock,
        telephony: phones.telephony,
        settings: { nudge: { groups: ['wards'], snoozeDays: 2, maxSnoozes: 3 } },
      }),
      launchBrowser(),
    ]);
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await portal?.close();
  });

  /** Password, then the phone call answered with #: Next. Lands where the sign-in goes next. */
  async function signInWithPhone(page: Page, email: string) {
    await signIn(page, portal.url, email);
    expectPath(page, '/mfa/verify/phone/call');
    await expectNoAxeViolations(page);
    await phones.answerLastCall(portal.core);
    // Answered: the sign-in moves on by itself once the page is asked again.
    await page.getByRole('button', { name: 'I have pressed #' }).click();
    await page.waitForLoadState('load');
  }

  test('Not now three times, each put off for the days configured, then only the set-up is offered', async () => {
    const account = await addUser(portal.core, 'phone.only@example.org', { groups: ['wards'] });
    await portal.core.enrolment.enable(account, '127.0.0.1');
    await insertPhone(portal.store, account.id, '+447700900789', true);
    const outsider = await addUser(portal.core, 'not.in.campaign@example.org', { groups: ['theatres'] });
    await portal.core.enrolment.enable(outsider, '127.0.0.1');
    await insertPhone(portal.store, outsider.id, '+447700900790', true);

    const { context, page } = await openPage(browser, { javaScriptEnabled: false });
    contexts.push(context);
    for (let snooze = 1; snooze <= 3; snooze++) {
      await signInWithPhone(page, account.email);
      expectPath(page, '/profile/nudge');
      await page.getByRole('heading', { name: 'Set up the authenticator app' }).waitFor();
      await page
        .getByText(`You can choose Not now ${4 - snooze} more ${snooze === 3 ? 'time' : 'times'}.`)
        .waitFor();
      await expectNoAxeViolations(page);
      await page.getByRole('button', { name: 'Not now' }).click();
      expectPath(page, '/');
      await expectNoAxeViolations(page);
      // Put off: the next sign-in the same day goes straight in.
      await signOut(page);
      await signInWithPhone(page, account.email);
      expectPath(page, '/');
      await signOut(page);
      clock.advanceMinutes(2 * 24 * 60 + 1);
    }
    await signInWithPhone(page, account.email);
    expectPath(page, '/profile/nudge');
    assert.equal(await page.getByRole('button', { name: 'Not now' }).count(), 0);
    await page.getByText('You have put this off as often as you can.').waitFor();
    await expectNoAxeViolations(page);
    await page.getByRole('button', { name: 'Set up the authenticator app' }).click();
    expectPath(page, '/mfa/register/app');
    await expectNoAxeViolations(page);
    await signOut(page);
    const snoozed = (await portal.core.audit.list({ email: account.email, limit: 100 })).filter(
      (e) => e.type === 'nudge.snoozed',
    );
    assert.deepEqual(snoozed.map((e) => e.detail.snoozes).reverse(), [1, 2, 3]);

    // Not in an included group: never nudged.
    await signInWithPhone(page, outsider.email);
    expectPath(page, '/');
    await expectNoAxeViolations(page);
    expectEveryPageChecked(page);
  });
});
