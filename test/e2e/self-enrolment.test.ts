import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  expectEveryPageChecked,
  expectNoAxeViolations,
  expectPath,
  launchBrowser,
  openMyProfile,
  openPage,
  openSelfService,
  selfEnrolByTheGuide,
  signIn,
  signOut,
} from '../helpers/browser.ts';
import { addUser, startTestPortal, type TestPortal } from '../helpers/portal.ts';

/**
 * Part 1 of the user guide, "Enrol for MFA on your NHS.net email account", click by click in a
 * real browser, with an accessibility check on every page on the way.
 */

const SECURE_CARE_MESSAGE =
  'Colleagues working in secure care should not set up MFA; further guidance will be circulated.';

describe('self-enrolment for MFA, following the user guide', () => {
  let portal: TestPortal;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    [portal, browser] = await Promise.all([startTestPortal({ listen: true }), launchBrowser()]);
    await addUser(portal.core, 'nhsmailaccount@example.org');
    await addUser(portal.core, 'second.signin@example.org');
    await addUser(portal.core, 'ward7.inbox@example.org', { sharedMailbox: true });
    await addUser(portal.core, 'secure.carer@example.org', { groups: ['secure care'] });
    await portal.core.accounts.excludeGroupFromMfa('secure care', SECURE_CARE_MESSAGE, 'test');
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await portal?.close();
  });

  async function newPage(): Promise<Page> {
    const { context, page } = await openPage(browser);
    contexts.push(context);
    return page;
  }

  const eventTypes = async (email: string) =>
    (await portal.core.audit.list({ email })).map((event) => event.type);

  test('Profile → My Profile → Self-Service → Self-enrol → Confirm enables MFA and says so', async () => {
    const email = 'nhsmailaccount@example.org';
    const page = await newPage();

    // Step 1: sign in.
    await signIn(page, portal.url, email);
    expectPath(page, '/');
    await page.getByRole('heading', { level: 1, name: /^Welcome/ }).waitFor();
    await expectNoAxeViolations(page);

    // Steps 2 and 3: Profile, My Profile, Self-Service.
    await openMyProfile(page);
    await openSelfService(page);

    // Before Self-enrol, the page says not to enable MFA without a mobile device.
    const mobileWarning = page.getByText('If you do not have access to a mobile device, do not enable MFA.');
    assert.equal(await mobileWarning.isVisible(), true, 'the mobile device warning should be visible');
    const selfEnrol = page.getByRole('link', { name: 'Self-enrol', exact: true });
    assert.equal(await selfEnrol.isVisible(), true, 'Self-enrol should be offered');
    const warningComesFirst = await mobileWarning.evaluate(
      (warning, link) =>
        Boolean(warning.compareDocumentPosition(link as Node) & Node.DOCUMENT_POSITION_FOLLOWING),
      await selfEnrol.elementHandle(),
    );
    assert.equal(warningComesFirst, true, 'the mobile device warning should come before Self-enrol');
    assert.equal((await eventTypes(email)).includes('mfa.enabled'), false);

    // Step 4: Self-enrol.
    await selfEnrol.click();
    await page.waitForLoadState('load');
    expectPath(page, '/profile/self-service/mfa');
    await page.getByRole('heading', { level: 1, name: /Enable multi-factor authentication/ }).waitFor();
    await expectNoAxeViolations(page);

    // Step 5: Confirm.
    await page.getByRole('button', { name: 'Confirm', exact: true }).click();
    await page.waitForLoadState('load');

    // Step 6: the success message, word for word.
    expectPath(page, '/profile/self-service');
    const success = page.getByRole('alert').getByText(`success: MFA enabled successfully for ${email}`, {
      exact: true,
    });
    await success.waitFor({ state: 'visible' });
    await expectNoAxeViolations(page);
    assert.equal(await page.getByRole('link', { name: 'Self-enrol', exact: true }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Self-enrol', exact: true }).count(), 0);

    const account = await portal.core.accounts.find(email);
    assert.equal(account?.mfaEnabled, true);
    const enabled = (await portal.core.audit.list({ email })).filter((event) => event.type === 'mfa.enabled');
    assert.equal(enabled.length, 1, 'one mfa.enabled event for the user');
    assert.equal(enabled[0]?.actor, email);

    expectEveryPageChecked(page);
  });

  test('once MFA is enabled, the next sign-in leads to "Click me to enrol for Multi-Factor Authentication"', async () => {
    const email = 'second.signin@example.org';
    const page = await newPage();
    await signIn(page, portal.url, email);
    expectPath(page, '/');
    await expectNoAxeViolations(page);
    await selfEnrolByTheGuide(page, email);
    await signOut(page);

    // Part 2, step 1: sign in again and select the enrolment link.
    await signIn(page, portal.url, email);
    expectPath(page, '/mfa/register');
    await expectNoAxeViolations(page);
    // Not yet through MFA: the portal's pages stay out of reach.
    assert.equal(await page.getByText('Profile', { exact: true }).count(), 0);
    await page
      .getByRole('link', { name: 'Click me to enrol for Multi-Factor Authentication', exact: true })
      .click();
    await page.waitForLoadState('load');
    expectPath(page, '/mfa/register/start');
    await page.getByRole('heading', { level: 1 }).waitFor();
    await expectNoAxeViolations(page);

    expectEveryPageChecked(page);
  });

  test('a shared mailbox is not offered Self-enrol and is told why', async () => {
    const email = 'ward7.inbox@example.org';
    const page = await newPage();
    await signIn(page, portal.url, email);
    expectPath(page, '/');
    await expectNoAxeViolations(page);
    await openMyProfile(page);
    await openSelfService(page);

    const explanation = page.getByText(
      'MFA cannot be enabled on this account because it is a shared mailbox: other people also sign in to it.',
      { exact: true },
    );
    assert.equal(await explanation.isVisible(), true, 'the shared mailbox explanation should be visible');
    assert.equal(await page.getByRole('link', { name: 'Self-enrol', exact: true }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Self-enrol', exact: true }).count(), 0);

    // Typing the address of the confirmation page leads back to the explanation, not to Confirm.
    await page.goto(`${portal.url}/profile/self-service/mfa`);
    expectPath(page, '/profile/self-service');
    assert.equal(await page.getByRole('button', { name: 'Confirm', exact: true }).count(), 0);
    assert.equal(await explanation.isVisible(), true);
    await expectNoAxeViolations(page);

    assert.equal((await portal.core.accounts.find(email))?.mfaEnabled, false);
    assert.equal((await eventTypes(email)).includes('mfa.enabled'), false);
    expectEveryPageChecked(page);
  });

  test('a member of the excluded "secure care" group is not offered Self-enrol and sees the group\'s message', async () => {
    const email = 'secure.carer@example.org';
    const page = await newPage();
    await signIn(page, portal.url, email);
    expectPath(page, '/');
    await expectNoAxeViolations(page);
    await openMyProfile(page);
    await openSelfService(page);

    const message = page.getByText(SECURE_CARE_MESSAGE, { exact: true });
    assert.equal(await message.isVisible(), true, "the group's message should be visible");
    assert.equal(await page.getByRole('link', { name: 'Self-enrol', exact: true }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Self-enrol', exact: true }).count(), 0);

    await page.goto(`${portal.url}/profile/self-service/mfa`);
    expectPath(page, '/profile/self-service');
    assert.equal(await page.getByRole('button', { name: 'Confirm', exact: true }).count(), 0);
    assert.equal(await message.isVisible(), true);
    await expectNoAxeViolations(page);

    assert.equal((await portal.core.accounts.find(email))?.mfaEnabled, false);
    assert.equal((await eventTypes(email)).includes('mfa.enabled'), false);
    expectEveryPageChecked(page);
  });
});
