import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  expectEveryPageChecked,
  expectNoAxeViolations,
  expectPath,
  launchBrowser,
  openPage,
  scriptsRun,
  selfEnrolByTheGuide,
  signIn,
  signOut,
} from '../helpers/browser.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';

/** Signing in and out in a real browser, with an accessibility check on every page. */

const GENERIC_FAILURE = 'The email address or password is not correct. Check them and try again.';
const MAX_FAILURES = 3;

describe('signing in and out', () => {
  let portal: TestPortal;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    [portal, browser] = await Promise.all([
      startTestPortal({
        listen: true,
        settings: { accountLockout: { maxFailures: MAX_FAILURES, windowMinutes: 15, lockMinutes: 15 } },
      }),
      launchBrowser(),
    ]);
    await addUser(portal.core, 'wrong.password@example.org');
    await addUser(portal.core, 'locked.out@example.org');
    await addUser(portal.core, 'signing.out@example.org');
    await addUser(portal.core, 'no.javascript@example.org');
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await portal?.close();
  });

  async function newPage(options: { javaScriptEnabled?: boolean } = {}): Promise<Page> {
    const { context, page } = await openPage(browser, options);
    contexts.push(context);
    return page;
  }

  const eventTypes = async (email: string) =>
    (await portal.core.audit.list({ email })).map((event) => event.type);

  /** The error summary's text, and its links as [text, href]. */
  async function errorSummary(page: Page) {
    const summary = page
      .getByRole('alert')
      .filter({ has: page.getByRole('heading', { name: 'There is a problem' }) });
    await summary.waitFor({ state: 'visible' });
    const links = await summary
      .getByRole('link')
      .evaluateAll((as) => as.map((a) => [a.textContent?.trim() ?? '', a.getAttribute('href') ?? '']));
    return { summary, links };
  }

  /** The message shown with the Email address field, without the visually hidden "Error:". */
  async function emailFieldError(page: Page): Promise<string> {
    const field = page.getByLabel('Email address', { exact: true });
    const describedBy = await field.getAttribute('aria-describedby');
    assert.ok(describedBy, 'the Email address field should be described by its error message');
    const text = await page.locator(`[id="${describedBy}"]`).innerText();
    return text.replace(/^Error:\s*/, '').trim();
  }

  test('a wrong password shows the generic message, in the same words as an unknown email', async () => {
    const page = await newPage();

    await signIn(page, portal.url, 'wrong.password@example.org', 'Not-The-Password-1');
    expectPath(page, '/signin');
    assert.match(await page.title(), /^Error: /);
    const known = await errorSummary(page);
    assert.deepEqual(known.links, [[GENERIC_FAILURE, '#email']]);
    assert.equal(await emailFieldError(page), GENERIC_FAILURE);
    assert.equal(
      await page.getByLabel('Email address', { exact: true }).inputValue(),
      'wrong.password@example.org',
    );
    assert.equal(
      await page.getByLabel('Password', { exact: true }).inputValue(),
      '',
      'the password is not sent back',
    );
    await expectNoAxeViolations(page);

    // The summary's link takes you to the field.
    await known.summary.getByRole('link', { name: GENERIC_FAILURE }).click();
    const focusedId = await page.evaluate(() => document.activeElement?.id);
    assert.equal(focusedId, 'email');
    assert.equal(
      await page.getByLabel('Email address', { exact: true }).evaluate((el) => el === document.activeElement),
      true,
      'the Email address field should have the focus',
    );

    await page.getByLabel('Email address', { exact: true }).fill('nobody.here@example.org');
    await page.getByLabel('Password', { exact: true }).fill('Not-The-Password-1');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForLoadState('load');
    expectPath(page, '/signin');
    const unknown = await errorSummary(page);
    assert.deepEqual(unknown.links, known.links, 'an unknown email gets the same words as a wrong password');
    assert.equal(await emailFieldError(page), GENERIC_FAILURE);
    await expectNoAxeViolations(page);

    assert.ok((await eventTypes('wrong.password@example.org')).includes('signin.failed'));
    assert.ok((await eventTypes('nobody.here@example.org')).includes('signin.failed'));
    expectEveryPageChecked(page);
  });

  test(`after ${MAX_FAILURES} failures the account is temporarily locked, even for the right password`, async () => {
    const email = 'locked.out@example.org';
    const page = await newPage();

    for (let attempt = 1; attempt < MAX_FAILURES; attempt++) {
      await signIn(page, portal.url, email, `Wrong-Guess-${attempt}`);
      expectPath(page, '/signin');
      assert.deepEqual((await errorSummary(page)).links, [[GENERIC_FAILURE, '#email']], `attempt ${attempt}`);
      await expectNoAxeViolations(page);
    }
    assert.equal((await eventTypes(email)).includes('signin.locked'), false, 'not locked before the limit');

    await signIn(page, portal.url, email, `Wrong-Guess-${MAX_FAILURES}`);
    expectPath(page, '/signin');
    const [[lockedText] = []] = (await errorSummary(page)).links;
    assert.match(lockedText ?? '', /temporarily locked/);
    assert.match(lockedText ?? '', /Try again in \d+ minutes?/);
    await expectNoAxeViolations(page);
    assert.ok((await eventTypes(email)).includes('signin.locked'), 'the audit log has signin.locked');

    // The right password is refused while the lock lasts.
    await signIn(page, portal.url, email, TEST_PASSWORD);
    expectPath(page, '/signin');
    const { links } = await errorSummary(page);
    assert.match(links[0]?.[0] ?? '', /temporarily locked/);
    assert.match(await emailFieldError(page), /temporarily locked/);
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0, 'not signed in');
    await expectNoAxeViolations(page);
    assert.equal((await eventTypes(email)).includes('signin.succeeded'), false);

    expectEveryPageChecked(page);
  });

  test('signing out returns to the sign-in page, and the old session no longer opens the portal', async () => {
    const email = 'signing.out@example.org';
    const page = await newPage();
    await signIn(page, portal.url, email);
    expectPath(page, '/');
    await expectNoAxeViolations(page);

    const cookies = await page.context().cookies(portal.url);
    const session = cookies.find((c) => c.name === 'gatehouse_session');
    assert.ok(session, 'signing in sets the session cookie');

    // The same cookie, in another browser, opens the portal while the session lasts...
    const other = await newPage();
    await other.context().addCookies([session]);
    await other.goto(`${portal.url}/`);
    expectPath(other, '/');
    await expectNoAxeViolations(other);

    await signOut(page);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    assert.ok((await eventTypes(email)).includes('signout'));

    // ...and no longer once signed out: it is ended on the server, not only forgotten by this browser.
    await page.goto(`${portal.url}/`);
    expectPath(page, '/signin');
    await expectNoAxeViolations(page);
    await other.goto(`${portal.url}/`);
    expectPath(other, '/signin');
    await expectNoAxeViolations(other);
    await other.goto(`${portal.url}/profile`);
    expectPath(other, '/signin');

    expectEveryPageChecked(page);
    expectEveryPageChecked(other);
  });

  test('the whole self-enrolment journey works with JavaScript turned off', async () => {
    const email = 'no.javascript@example.org';
    const page = await newPage({ javaScriptEnabled: false });
    await page.goto(`${portal.url}/signin`);
    assert.equal(await scriptsRun(page), false, 'JavaScript should be off in this browser');

    await signIn(page, portal.url, email);
    expectPath(page, '/');
    await expectNoAxeViolations(page);
    // The Profile menu is opened with the keyboard here: it is a <details> element, no script needed.
    await selfEnrolByTheGuide(page, email, { keyboard: true });
    assert.equal((await portal.core.accounts.find(email))?.mfaEnabled, true);
    assert.ok((await eventTypes(email)).includes('mfa.enabled'));

    await signOut(page);
    await signIn(page, portal.url, email);
    expectPath(page, '/mfa/register');
    await expectNoAxeViolations(page);

    expectEveryPageChecked(page);
  });
});
