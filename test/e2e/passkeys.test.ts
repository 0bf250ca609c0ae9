import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import {
  expectEveryPageChecked,
  expectNoAxeViolations,
  expectPath,
  launchBrowser,
  openPage,
  scriptsRun,
} from '../helpers/browser.ts';
import {
  addUser,
  insertCodeApp,
  startTestPortal,
  TEST_PASSWORD,
  type TestPortal,
} from '../helpers/portal.ts';

/**
 * Passkeys in Chromium with a CDP virtual authenticator (WebAuthn.addVirtualAuthenticator): add a
 * passkey from Security info, sign in with it as the second factor, sign in without a password,
 * remove it. The portal is reached as http://localhost (a secure context, and a valid RP ID).
 */
describe('Passkeys', () => {
  let portal: TestPortal;
  let browser: Browser;
  let base: string;
  const contexts: BrowserContext[] = [];

  before(async () => {
    [portal, browser] = await Promise.all([
      startTestPortal({ listen: true }),
      launchBrowser({ localhost: true }),
    ]);
    base = portal.url.replace('127.0.0.1', 'localhost');
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await portal?.close();
  });

  async function withAuthenticator(page: Page, transport: 'internal' | 'usb') {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport,
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return { cdp, authenticatorId };
  }

  async function passwordStep(page: Page, email: string) {
    await page.goto(`${base}/signin`);
    await expectNoAxeViolations(page);
    await page.getByLabel('Email address', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForLoadState('load');
  }

  for (const transport of ['internal', 'usb'] as const) {
    test(`add a passkey (${transport}), use it after the password and without one, then remove it`, async () => {
      const email = `passkey.${transport}@example.org`;
      await addUser(portal.core, email);
      const account = await portal.core.accounts.find(email);
      assert.ok(account);
      await portal.core.enrolment.enable(account, '127.0.0.1');
      const { secret } = await insertCodeApp(portal.store, account.id);
      const { context, page } = await openPage(browser);
      contexts.push(context);
      const { cdp, authenticatorId } = await withAuthenticator(page, transport);

      // Signed in with the password and a code, then Security info > Add sign-in method > Passkey.
      await passwordStep(page, email);
      expectPath(page, '/mfa/verify/code');
      await expectNoAxeViolations(page);
      await page.getByLabel('Verification code').fill(codeAt(secret, new Date()));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.waitForURL(`${base}/`);
      await expectNoAxeViolations(page);
      await page.goto(`${base}/profile/security-info`);
      await expectNoAxeViolations(page);
      await page.getByRole('link', { name: 'Add sign-in method' }).click();
      await expectNoAxeViolations(page);
      await page.getByRole('link', { name: 'I want to set up a different method' }).click();
      await expectNoAxeViolations(page);
      await page.getByLabel('Choose a different method').selectOption({ label: 'Passkey' });
      await page.getByRole('button', { name: 'Confirm' }).click();
      expectPath(page, '/mfa/register/passkey');
      await expectNoAxeViolations(page);
      await page.getByLabel('Name your passkey').fill('Work laptop');
      await page.getByRole('button', { name: 'Create passkey' }).click();
      await page.waitForURL(`${base}/mfa/register/app-password`);
      await expectNoAxeViolations(page);
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1);
      assert.equal(credentials[0]?.isResidentCredential, true);

      await page.goto(`${base}/profile/security-info`);
      await expectNoAxeViolations(page);
      const row = page.getByRole('row', { name: /Passkey: Work laptop/ });
      await row.waitFor();
      assert.match(await row.innerText(), /Never/, 'not used yet');

      // Signed out, then the password and `Use a passkey`.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${base}/signin`);
      await passwordStep(page, email);
      expectPath(page, '/mfa/verify/code');
      await page.getByRole('link', { name: 'Use a passkey' }).click();
      expectPath(page, '/mfa/verify/passkey');
      await expectNoAxeViolations(page);
      await page.getByRole('button', { name: 'Use a passkey' }).click();
      await page.waitForURL(`${base}/`);
      const second = await portal.core.audit.list({ email, limit: 100 });
      const accepted = second.find((e) => e.type === 'passkey.accepted');
      assert.equal(accepted?.detail?.attachment, transport === 'internal' ? 'platform' : 'cross-platform');

      // Signed out, then `Sign in with a passkey`: no email, no password.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${base}/signin`);
      await expectNoAxeViolations(page);
      await page.getByRole('link', { name: 'Sign in with a passkey' }).click();
      expectPath(page, '/signin/passkey');
      await expectNoAxeViolations(page);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await page.waitForURL(`${base}/`);
      await expectNoAxeViolations(page);

      // Remove it from Security info; its last use is shown first.
      await page.goto(`${base}/profile/security-info`);
      await expectNoAxeViolations(page);
      assert.doesNotMatch(await page.getByRole('row', { name: /Passkey: Work laptop/ }).innerText(), /Never/);
      await page.getByRole('link', { name: 'Remove Work laptop' }).click();
      await expectNoAxeViolations(page);
      await page.getByRole('button', { name: 'Remove' }).click();
      await page.getByText('The sign-in method was removed.').waitFor();
      await expectNoAxeViolations(page);
      assert.equal(await page.getByRole('row', { name: /Passkey: Work laptop/ }).count(), 0);

      // The removed passkey (still in the authenticator) no longer signs in.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${base}/signin`);
      await page.goto(`${base}/signin/passkey`);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await page
        .getByText('This passkey is not registered, or has been removed', { exact: false })
        .first()
        .waitFor();
      await expectNoAxeViolations(page);
      expectEveryPageChecked(page);
    });
  }

  test('without JavaScript, the passkey pages say a passkey needs it and offer the other ways', async () => {
    const { context, page } = await openPage(browser, { javaScriptEnabled: false });
    contexts.push(context);
    await page.goto(`${base}/signin/passkey`);
    assert.equal(await scriptsRun(page), false);
    await expectNoAxeViolations(page);
    await page.getByText('A passkey needs JavaScript').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Sign in with a passkey' }).isVisible(), false);
    await page.getByRole('link', { name: 'Sign in with email and password' }).click();
    expectPath(page, '/signin');
    await expectNoAxeViolations(page);
    expectEveryPageChecked(page);
  });
});
