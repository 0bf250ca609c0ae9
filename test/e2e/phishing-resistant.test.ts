import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { CLI_ACTOR } from '../../src/core/console/actor.ts';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import {
  expectEveryPageChecked,
  expectNoAxeViolations,
  expectPath,
  launchBrowser,
  openPage,
  signIn,
} from '../helpers/browser.ts';
import {
  addUser,
  insertCodeApp,
  passkeysRequiring,
  startTestPortal,
  type TestPortal,
} from '../helpers/portal.ts';
import { addPasskeyFromSecurityInfo, virtualAuthenticator } from '../helpers/virtual-authenticator.ts';

const CALLBACK = 'https://theatre.example.org/callback';
const GROUP = 'Theatre staff';

/**
 * The phishing-resistant requirement in Chromium with a CDP virtual authenticator, axe on every
 * page: an operator (the console requires a passkey) creates one when told to, then holds an
 * application to it; a user without a passkey is told how to get one; with one, a code sign-in
 * is stepped up to the passkey; a member of a group that requires it registers a passkey only.
 */
describe('Phishing-resistant sign-in required by the console, an application and a group', () => {
  let portal: TestPortal;
  let browser: Browser;
  let base: string;
  let clientId: string;
  const contexts: BrowserContext[] = [];

  before(async () => {
    [portal, browser] = await Promise.all([
      startTestPortal({
        listen: true,
        singleSignOn: true,
        settings: {
          passkeys: passkeysRequiring([GROUP], true),
        },
      }),
      launchBrowser({ localhost: true }),
    ]);
    base = portal.url.replace('127.0.0.1', 'localhost');
    const { application } = await portal.core.console.applications.add(CLI_ACTOR, {
      name: 'Theatre list',
      redirectUris: [CALLBACK],
      postLogoutRedirectUris: [],
      confidential: true,
      requireMfa: false,
    });
    clientId = application.clientId;
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await portal?.close();
  });

  const presence = new WeakMap<Page, (enabled: boolean) => Promise<unknown>>();

  /** A browser with a virtual platform authenticator (`presence`: see virtualAuthenticator). */
  async function browserWithAuthenticator(): Promise<Page> {
    const { context, page } = await openPage(browser);
    contexts.push(context);
    presence.set(page, (await virtualAuthenticator(page)).presence);
    return page;
  }

  /**
   * Where the browser was sent to at the application once `act` ran: the request to its callback
   * (the application itself is not running; redirects to it are not routed, so it is read here).
   */
  async function atApplication(page: Page, act: () => Promise<unknown>): Promise<URL> {
    const request = page.waitForRequest((r) => r.url().startsWith(CALLBACK));
    await act();
    return new URL((await request).url());
  }

  /** The application's request for a sign-in (PKCE), as its OpenID library makes it. */
  function authorizationUrl() {
    const verifier = randomBytes(32).toString('base64url');
    const url = new URL(`${base}/oidc/auth`);
    url.search = new URLSearchParams({
      client_id: clientId,
      redirect_uri: CALLBACK,
      response_type: 'code',
      scope: 'openid email',
      state: randomBytes(8).toString('hex'),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    return url.toString();
  }

  async function user(groups: string[] = []) {
    const email = `phr.e2e.${groups.length ? 'group' : 'user'}.${randomBytes(3).toString('hex')}@example.org`;
    await addUser(portal.core, email, { groups });
    const account = (await portal.core.accounts.find(email))!;
    await portal.core.enrolment.enable(account, '127.0.0.1');
    return { email, account };
  }

  /** `later`: the next 30-second code, when this one was used already (a code works once). */
  async function typeCode(page: Page, secret: string, later = false) {
    expectPath(page, '/mfa/verify/code');
    await expectNoAxeViolations(page);
    await page
      .getByLabel('Verification code')
      .fill(codeAt(secret, new Date(Date.now() + (later ? 30_000 : 0))));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForLoadState('load');
  }

  const addPasskey = (page: Page, name: string) => addPasskeyFromSecurityInfo(page, base, name);

  test('an operator told to create a passkey for the console does, then holds an application to it', async () => {
    const { email, account } = await user();
    const { secret } = await insertCodeApp(portal.store, account.id);
    await portal.core.console.grant(CLI_ACTOR, email, 'operator');
    const page = await browserWithAuthenticator();
    await signIn(page, base, email);
    await typeCode(page, secret);
    await page.waitForURL(`${base}/`);
    await expectNoAxeViolations(page);
    await page.goto(`${base}/admin`);
    await page.getByRole('heading', { name: 'The console needs a passkey or a smartcard' }).waitFor();
    await expectNoAxeViolations(page);
    await addPasskey(page, 'Desk laptop');

    // The registration's proof was a passkey's: the console opens.
    await page.goto(`${base}/admin/applications`);
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'Theatre list' }).click();
    await expectNoAxeViolations(page);
    await page.getByLabel('Every sign-in to it needs a passkey or a smartcard').check();
    await page.getByLabel('Reason for the change (optional, kept in the audit log)').fill('patient records');
    await page.getByRole('button', { name: 'Save requirements' }).click();
    await page.getByText('Every sign-in to Theatre list now needs a passkey or a smartcard').waitFor();
    await expectNoAxeViolations(page);
    const stored = await portal.core.applications.find(clientId);
    assert.equal(stored?.requirePhishingResistant, true);
    expectEveryPageChecked(page);
  });

  test('a user without a passkey is told how to get one; with one, a code sign-in is stepped up to it', async () => {
    await portal.core.console.applications.setRequirements(CLI_ACTOR, clientId, {
      requireMfa: true,
      requirePhishingResistant: true,
    });
    const { email, account } = await user();
    const { secret } = await insertCodeApp(portal.store, account.id);
    const page = await browserWithAuthenticator();
    await page.goto(authorizationUrl());
    expectPath(page, '/signin');
    await expectNoAxeViolations(page);
    await page.getByLabel('Email address', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill('Blue-Harbour-42');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForLoadState('load');
    await typeCode(page, secret);
    await page.getByRole('heading', { name: 'Theatre list needs a passkey or a smartcard' }).waitFor();
    await expectNoAxeViolations(page);
    const refused = await atApplication(page, () =>
      page.getByRole('link', { name: 'Return to Theatre list' }).click(),
    );
    assert.equal(refused.searchParams.get('error'), 'access_denied');

    // As the page said: a passkey from Security info (its fresh proof is the code), then sign out.
    await page.goto(`${base}/`);
    await expectNoAxeViolations(page);
    await addPasskey(page, 'Ward PC');
    await presence.get(page)?.(false);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/signin`);
    await expectNoAxeViolations(page);

    // Password and code again through the application: stepped up to the passkey alone.
    await page.goto(authorizationUrl());
    await page.getByLabel('Email address', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill('Blue-Harbour-42');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForLoadState('load');
    await typeCode(page, secret, true);
    expectPath(page, '/mfa/verify/passkey');
    await page.getByText('What you are signing in to needs a passkey or a smartcard').waitFor();
    await expectNoAxeViolations(page);
    assert.equal(await page.getByRole('link', { name: 'Use a verification code' }).count(), 0);
    await presence.get(page)?.(true);
    const answered = await atApplication(page, () =>
      page.getByRole('button', { name: 'Use a passkey' }).click(),
    );
    assert.ok(answered.searchParams.get('code'), 'the application got a code');
    expectEveryPageChecked(page);
  });

  test('a member of a group that requires it registers a passkey in the wizard, and no other method', async () => {
    const { email } = await user([GROUP]);
    const page = await browserWithAuthenticator();
    await signIn(page, base, email);
    expectPath(page, '/mfa/register/passkey');
    await page.getByText('Your organisation requires you to sign in with a passkey or a smartcard').waitFor();
    await expectNoAxeViolations(page);
    assert.equal(await page.getByRole('link', { name: 'I want to set up a different method' }).count(), 0);
    // A different method's page, typed, leads back here.
    await page.goto(`${base}/mfa/register/app`);
    expectPath(page, '/mfa/register/passkey');
    await page.getByLabel('Name your passkey').fill('Theatre PC');
    await page.getByRole('button', { name: 'Create passkey' }).click();
    await page.waitForURL(`${base}/mfa/register/app-password`);
    await expectNoAxeViolations(page);
    expectEveryPageChecked(page);
  });
});
