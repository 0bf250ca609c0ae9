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
import { eventually } from '../helpers/eventually.ts';
import {
  addUser,
  insertCodeApp,
  signedInSession,
  startTestPortal,
  TEST_PASSWORD,
  type TestPortal,
} from '../helpers/portal.ts';
import { SoftAuthenticator } from '../helpers/soft-authenticator.ts';
import { addPasskeyFromSecurityInfo, virtualAuthenticator } from '../helpers/virtual-authenticator.ts';

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

  const withAuthenticator = virtualAuthenticator;

  /** Counts the page's requests for passkey options before sign-in, and its script errors. */
  function watch(page: Page) {
    const seen = { options: 0, errors: [] as string[], answers: [] as string[] };
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (request.method() !== 'POST') return;
      if (path === '/signin/passkey/options') seen.options++;
      if (path === '/signin/passkey') seen.answers.push(request.postData() ?? '');
    });
    page.on('pageerror', (error) => seen.errors.push(String(error)));
    page.on('console', (message) => {
      if (message.type() === 'error') seen.errors.push(message.text());
    });
    return seen;
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
      const { cdp, authenticatorId, presence } = await withAuthenticator(page, transport);

      // Signed in with the password and a code, then Security info > Add sign-in method > Passkey.
      await passwordStep(page, email);
      expectPath(page, '/mfa/verify/code');
      await expectNoAxeViolations(page);
      await page.getByLabel('Verification code').fill(codeAt(secret, new Date()));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.waitForURL(`${base}/`);
      await expectNoAxeViolations(page);
      await addPasskeyFromSecurityInfo(page, base, 'Work laptop');
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1);
      assert.equal(credentials[0]?.isResidentCredential, true);

      await page.goto(`${base}/profile/security-info`);
      await expectNoAxeViolations(page);
      const row = page.getByRole('row', { name: /Passkey: Work laptop/ });
      await row.waitFor();
      assert.match(await row.innerText(), /Never/, 'not used yet');

      // Signed out, then the password and `Use a passkey` (the passkey not picked on the sign-in
      // page: the authenticator absent while it is shown).
      await presence(false);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${base}/signin`);
      await passwordStep(page, email);
      expectPath(page, '/mfa/verify/code');
      await page.getByRole('link', { name: 'Use a passkey' }).click();
      expectPath(page, '/mfa/verify/passkey');
      await expectNoAxeViolations(page);
      await presence(true);
      await page.getByRole('button', { name: 'Use a passkey' }).click();
      await page.waitForURL(`${base}/`);
      const second = await portal.core.audit.list({ email, limit: 100 });
      const accepted = second.find((e) => e.type === 'passkey.accepted');
      assert.equal(accepted?.detail?.attachment, transport === 'internal' ? 'platform' : 'cross-platform');

      // Signed out, then `Sign in with a passkey`: no email, no password.
      await presence(false);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${base}/signin`);
      await expectNoAxeViolations(page);
      await page.getByRole('link', { name: 'Sign in with a passkey' }).click();
      expectPath(page, '/signin/passkey');
      await expectNoAxeViolations(page);
      await presence(true);
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
      await presence(false);
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${base}/signin`);
      await page.goto(`${base}/signin/passkey`);
      await presence(true);
      await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
      await page
        .getByText('This passkey is not registered, or has been removed', { exact: false })
        .first()
        .waitFor();
      await expectNoAxeViolations(page);
      expectEveryPageChecked(page);
    });
  }

  test("the sign-in page offers passkeys in the email field's suggestions: asked once, out of the way of the password and the passkey page, and signs in", async () => {
    const email = 'passkey.autofill@example.org';
    await addUser(portal.core, email);
    const account = await portal.core.accounts.find(email);
    assert.ok(account);
    await portal.core.enrolment.enable(account, '127.0.0.1');
    // A passkey registered through the core, its key then held by the browser's authenticator.
    const key = new SoftAuthenticator('platform');
    const { active } = await signedInSession(portal.core, email);
    const creation = await portal.core.flow.startEnrolment(active, 'passkey', { origin: base }, '127.0.0.1');
    const registered = await portal.core.flow.finishEnrolment(
      active,
      'passkey',
      { origin: base, response: key.register(creation, base), name: 'This laptop' },
      '127.0.0.1',
    );
    assert.equal(registered.status, 'proved');
    const { context, page } = await openPage(browser);
    contexts.push(context);
    const seen = watch(page);
    const { cdp, authenticatorId, presence } = await withAuthenticator(page, 'internal');
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: key.forBrowser('localhost') });
    const accepted = async () =>
      (await portal.core.audit.list({ email, limit: 100 })).filter((e) => e.type === 'passkey.accepted');

    // The page: the field's token, axe, and one request for options, which then waits.
    await presence(false);
    await page.goto(`${base}/signin`);
    const field = page.getByLabel('Email address', { exact: true });
    assert.equal(await field.getAttribute('autocomplete'), 'username webauthn');
    await expectNoAxeViolations(page);
    await eventually('the page asked for passkey options', () => seen.options === 1);
    assert.equal(
      await page.evaluate(() => PublicKeyCredential.isConditionalMediationAvailable()),
      true,
      'Chromium offers conditional mediation',
    );
    await field.click();
    await field.fill(email);
    await page.waitForTimeout(1000);
    assert.equal(seen.options, 1, 'asked once per page view, not again on focus or typing');
    expectPath(page, '/signin');

    // The password while it waits: the request is cancelled, the password signs in as before.
    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${base}/mfa/verify/passkey`);
    await expectNoAxeViolations(page);
    assert.deepEqual(seen.answers, [], 'nothing was answered from the sign-in page');
    // And the explicit passkey button after it.
    await presence(true);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.waitForURL(`${base}/`);
    assert.equal((await accepted()).at(0)?.detail?.purpose, 'sign_in');

    // `Sign in with a passkey` while it waits: the passkey page's own request works.
    await presence(false);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/signin`);
    await eventually('the new page view asked for options once', () => seen.options === 2);
    await page.getByRole('link', { name: 'Sign in with a passkey' }).click();
    expectPath(page, '/signin/passkey');
    await expectNoAxeViolations(page);
    await presence(true);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(`${base}/`);
    assert.equal(seen.options, 3, "the passkey page's own request");
    assert.equal(seen.answers.length, 1);

    // Present when the sign-in page asks: Chromium's virtual authenticator answers the
    // conditional request with the passkey, and the page posts it: signed in, no password.
    const before = (await accepted()).length;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await eventually('signed in from the sign-in page', async () => (await accepted()).length === before + 1);
    await page.waitForURL(`${base}/`);
    await expectNoAxeViolations(page);
    assert.equal(seen.options, 4, 'once for that page view');
    assert.equal(seen.answers.length, 2);
    const posted = new URLSearchParams(seen.answers[1]);
    assert.ok(posted.get('_csrf'), 'the page posts its CSRF token');
    assert.equal(JSON.parse(posted.get('credential') ?? '{}').id, key.ids[0]);
    const [latest] = await accepted();
    assert.equal(latest?.detail?.purpose, 'passwordless');
    const signedIn = await page.getByRole('button', { name: 'Sign out' }).count();
    assert.equal(signedIn, 1, 'the home page, signed in');
    assert.deepEqual(seen.errors, [], 'no script errors (an aborted request is not one)');
    expectEveryPageChecked(page);
  });

  test('without JavaScript, the passkey pages say a passkey needs it and offer the other ways', async () => {
    const { context, page } = await openPage(browser, { javaScriptEnabled: false });
    contexts.push(context);
    await page.goto(`${base}/signin/passkey`);
    assert.equal(await scriptsRun(page), false);
    await expectNoAxeViolations(page);
    await page.getByText('A passkey needs JavaScript').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Sign in with a passkey' }).isVisible(), false);
    const seen = watch(page);
    await page.getByRole('link', { name: 'Sign in with email and password' }).click();
    expectPath(page, '/signin');
    await expectNoAxeViolations(page);
    // The sign-in page as before: the password signs in; no passkey options are asked for.
    const email = 'passkey.no-javascript@example.org';
    await addUser(portal.core, email);
    await page.getByLabel('Email address', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${base}/`);
    await expectNoAxeViolations(page);
    assert.equal(seen.options, 0);
    expectEveryPageChecked(page);
  });
});
