import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { systemClock } from '../../src/core/clock.ts';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import {
  expectEveryPageChecked,
  expectNoAxeViolations,
  expectPath,
  launchBrowser,
  openPage,
  signIn,
} from '../helpers/browser.ts';
import { startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';

/** Security info in Chromium: app passwords, adding a method, the default, removing one. */
describe('Security info', () => {
  let portal: TestPortal;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    [portal, browser] = await Promise.all([startTestPortal({ listen: true }), launchBrowser()]);
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await portal?.close();
  });

  test('sign in with the number, then manage methods and app passwords', async () => {
    const { email, phone } = await pushJourneys({
      core: portal.core,
      pcApp: portal.app,
      clock: systemClock,
    }).registered();
    const { context, page } = await openPage(browser);
    contexts.push(context);

    // Step 10 of the guide: the two-digit number, approved in the app; the PC moves on by itself.
    await signIn(page, portal.url, email);
    expectPath(page, '/mfa/verify');
    await expectNoAxeViolations(page);
    const number = await page.locator('#matching-number').innerText();
    const [requestId] = await phone.pendingIds();
    await phone.answer(requestId!, 'approve', number);
    await page.waitForURL(`${portal.url}/`, { timeout: 10_000 });
    await expectNoAxeViolations(page);

    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByText('Profile', { exact: true }).click();
    await nav.getByRole('link', { name: 'Security info' }).click();
    expectPath(page, '/profile/security-info');
    await expectNoAxeViolations(page);

    // An app password: name, key password shown once, Done.
    await page.getByRole('link', { name: 'Create app password' }).click();
    await expectNoAxeViolations(page);
    await page.getByLabel('Insert a password name of at least 8 characters').fill('Outlook on desktop');
    await page.getByRole('button', { name: 'Next' }).click();
    await expectNoAxeViolations(page);
    const key = await page.locator('#key-password').innerText();
    assert.equal(
      (await portal.core.legacySignIn({ email, password: key, protocol: 'ldap', clientAddress: '127.0.0.1' }))
        .email,
      email,
    );
    await page.getByRole('link', { name: 'Done' }).click();
    await page.getByRole('cell', { name: 'Outlook on desktop', exact: true }).waitFor();
    await expectNoAxeViolations(page);

    // Revoke it, with a confirmation.
    await page.getByRole('link', { name: 'Revoke Outlook on desktop' }).click();
    await expectNoAxeViolations(page);
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('The app password was revoked.').waitFor();
    await assert.rejects(
      portal.core.legacySignIn({ email, password: key, protocol: 'ldap', clientAddress: '127.0.0.1' }),
    );

    // The only method cannot be removed.
    await page
      .getByRole('link', { name: /^Remove / })
      .first()
      .click();
    await expectNoAxeViolations(page);
    await page.getByRole('button', { name: 'Remove' }).click();
    await page.getByText('You cannot remove your only sign-in method').waitFor();
    await expectNoAxeViolations(page);

    // Add a verification-code app, make it the default, then remove the first method.
    await page.getByRole('link', { name: 'Add sign-in method' }).click();
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'I want to set up a different method' }).click();
    await expectNoAxeViolations(page);
    await page
      .getByLabel('Choose a different method')
      .selectOption({ label: 'Authenticator app (verification codes only)' });
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expectNoAxeViolations(page);
    await page.getByText("Can't scan image?").click();
    const secret = (await page.locator('#totp-secret').innerText()).replaceAll(' ', '');
    await page.getByLabel('Enter the 6-digit code the app shows').fill(codeAt(secret, new Date()));
    await page.getByRole('button', { name: 'Next' }).click();
    expectPath(page, '/mfa/register/app-password');
    await expectNoAxeViolations(page);
    await page.goto(`${portal.url}/profile/security-info`);
    await expectNoAxeViolations(page);
    await page
      .getByLabel('Default sign-in method')
      .selectOption({ label: 'Verification codes: Authenticator app (verification codes)' });
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByText('Your default sign-in method was changed.').waitFor();
    await page.getByRole('link', { name: 'Remove Test phone' }).click();
    await page.getByRole('button', { name: 'Remove' }).click();
    await page.getByText('The sign-in method was removed.').waitFor();
    await expectNoAxeViolations(page);
    assert.equal(await page.getByRole('link', { name: 'Remove Test phone' }).count(), 0);
    expectEveryPageChecked(page);
  });
});
