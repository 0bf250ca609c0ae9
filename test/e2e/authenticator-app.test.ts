import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { totpCode } from '../../src/authenticator/client/totp.ts';
import { newVapidKeys } from '../../src/channels/web-push.ts';
import {
  CHROMIUM_PATH,
  expectEveryPageChecked,
  expectNoAxeViolations,
  expectPath,
  launchBrowser,
  openPage,
  signIn,
  signOut,
} from '../helpers/browser.ts';
import { postgresUnavailable } from '../helpers/engines.ts';
import { addUser, startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { virtualAuthenticator } from '../helpers/virtual-authenticator.ts';

/**
 * The authenticator web app (/authenticator/) on a phone, with the portal on a PC: two browser
 * contexts, the phone's with a small touch screen. Every page and state of both is checked by
 * axe-core.
 */

const PIN = '2468';
const APPLICATION = 'Gatehouse Test Trust portal';

/** The phone: a small touch screen. CSP is bypassed only so that axe-core can be injected. */
async function openPhone(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    bypassCSP: true,
    locale: 'en-GB',
    viewport: { width: 360, height: 640 },
    isMobile: true,
    hasTouch: true,
  });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  const page = await context.newPage();
  return { context, page };
}

async function openApp(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator('html[data-app-ready]').waitFor({ state: 'attached' });
}

/** The app's accounts as stored in its IndexedDB, read in the page. */
function storedAccounts(page: Page) {
  return page.evaluate(
    () =>
      new Promise<
        {
          account: string;
          server: string;
          extractable: boolean;
          type: string;
          usages: string[];
          secret: string;
        }[]
      >((resolve, reject) => {
        const open = indexedDB.open('gatehouse-authenticator');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const all = open.result.transaction('accounts').objectStore('accounts').getAll();
          all.onerror = () => reject(all.error);
          all.onsuccess = () =>
            resolve(
              (
                all.result as {
                  account: string;
                  server: string;
                  privateKey: CryptoKey;
                  totp: { secret: string };
                }[]
              ).map((a) => ({
                account: a.account,
                server: a.server,
                extractable: a.privateKey.extractable,
                type: a.privateKey.type,
                usages: [...a.privateKey.usages],
                secret: a.totp.secret,
              })),
            );
        };
      }),
  );
}

/** The verification code the app shows for an account, without its space. */
async function codeShown(phone: Page, email: string): Promise<string> {
  const card = phone.getByRole('article', { name: email });
  const code = card.locator('.gh-account__code');
  await code.filter({ hasText: /^\d{3} \d{3}$/ }).waitFor();
  return ((await code.textContent()) ?? '').replace(/\s/g, '');
}

/** The PC's wizard up to the scan page; returns the link shown under `Can't scan image?`. */
async function wizardToScan(
  pc: Page,
  portal: TestPortal,
  email: string,
): Promise<{ appUrl: string; link: string }> {
  await signIn(pc, portal.url, email);
  expectPath(pc, '/mfa/register');
  await expectNoAxeViolations(pc);
  await pc
    .getByRole('link', { name: 'Click me to enrol for Multi-Factor Authentication', exact: true })
    .click();
  await pc.waitForLoadState('load');
  expectPath(pc, '/mfa/register/start');
  await expectNoAxeViolations(pc);
  await pc.getByRole('link', { name: 'Next', exact: true }).click();
  await pc.waitForLoadState('load');
  expectPath(pc, '/mfa/register/app');
  await expectNoAxeViolations(pc);

  // Download Now opens the QR codes in a new window; each leads the phone to the web app.
  const [download] = await Promise.all([
    pc.waitForEvent('popup'),
    pc.getByRole('link', { name: /^Download Now/ }).click(),
  ]);
  await download.waitForLoadState('load');
  await expectNoAxeViolations(download);
  const appUrl = await download
    .getByRole('link', { name: 'Open the Android download page', exact: true })
    .getAttribute('href');
  assert.equal(appUrl, `${portal.url}/authenticator/`);
  assert.equal(
    await download
      .getByRole('link', { name: 'Open the iPhone download page', exact: true })
      .getAttribute('href'),
    appUrl,
  );
  await download.close();

  await pc.getByRole('button', { name: 'Next', exact: true }).click();
  await pc.waitForLoadState('load');
  expectPath(pc, '/mfa/register/scan');
  await expectNoAxeViolations(pc);
  await pc.getByText("Can't scan image?", { exact: true }).click();
  const linkElement = pc.locator('#activation-link');
  await linkElement.waitFor({ state: 'visible' });
  await expectNoAxeViolations(pc);
  const link = await linkElement.getAttribute('href');
  assert.ok(
    link?.startsWith(`${portal.url}/authenticator/#activate=${portal.url}/api/authenticator/v1/activations/`),
  );
  return { appUrl: appUrl ?? '', link: link ?? '' };
}

/** In the app: + Add account > Work or school account > Scan QR code, where the link is pasted. */
async function addAccountByPastingTheLink(phone: Page, link: string): Promise<void> {
  await phone.getByRole('button', { name: '+ Add account', exact: true }).click();
  await phone.getByRole('heading', { level: 1, name: 'Add account' }).waitFor();
  await expectNoAxeViolations(phone);
  await phone.getByRole('button', { name: 'Work or school account', exact: true }).click();
  await phone.getByRole('heading', { level: 1, name: 'Add a work or school account' }).waitFor();
  await expectNoAxeViolations(phone);
  await phone.getByRole('button', { name: 'Scan QR code', exact: true }).click();
  await phone.getByRole('heading', { level: 1, name: 'Scan QR code' }).waitFor();
  // Headless Chromium has no BarcodeDetector: the app says so and offers the fallback.
  await phone.getByText('This browser cannot scan QR codes.', { exact: false }).waitFor();
  await expectNoAxeViolations(phone);

  // Nothing entered: the error is shown the portal's way, and checked too.
  await phone.getByRole('button', { name: 'Add account', exact: true }).click();
  await phone.getByRole('alert').getByText('Enter the link or the code shown on your PC').waitFor();
  await expectNoAxeViolations(phone);

  await phone.getByLabel('Link or code', { exact: true }).fill(link);
  await phone.getByRole('button', { name: 'Add account', exact: true }).click();
}

/** On the PC's number page: the two-digit number. */
async function numberOnPc(pc: Page): Promise<string> {
  const number = (await pc.locator('#matching-number').textContent())?.trim() ?? '';
  assert.match(number, /^[1-9]\d$/);
  return number;
}

/** The phone answers the request in its list with Yes, after the number and the PIN. */
async function approveOnPhone(
  phone: Page,
  options: { title: string; number: string; firstPin?: boolean; application?: string },
) {
  const card = phone.getByRole('article', { name: options.title });
  await card.waitFor();
  if (options.application) {
    await card.getByText(options.application, { exact: true }).waitFor();
  }
  await expectNoAxeViolations(phone);
  await card.getByLabel(/^Enter the number shown/).fill(options.number);
  await card.getByRole('button', { name: /^Yes\b/ }).click();
  if (options.firstPin) {
    await phone.getByRole('heading', { level: 1, name: 'Choose a PIN' }).waitFor();
    await expectNoAxeViolations(phone);
    await phone.getByLabel('PIN', { exact: true }).fill(PIN);
    await phone.getByLabel('Enter the PIN again', { exact: true }).fill('1357');
    await phone.getByRole('button', { name: 'Save PIN and approve', exact: true }).click();
    await phone.getByRole('alert').getByText('The PINs do not match').first().waitFor();
    await expectNoAxeViolations(phone);
    await phone.getByLabel('PIN', { exact: true }).fill(PIN);
    await phone.getByLabel('Enter the PIN again', { exact: true }).fill(PIN);
    await phone.getByRole('button', { name: 'Save PIN and approve', exact: true }).click();
  } else {
    await phone.getByRole('heading', { level: 1, name: 'Enter your PIN' }).waitFor();
    await expectNoAxeViolations(phone);
    await phone.getByLabel('PIN', { exact: true }).fill(PIN);
    await phone.getByRole('button', { name: 'Approve', exact: true }).click();
  }
  await phone
    .getByRole('status')
    .getByText(/^Approved\./)
    .waitFor();
  await expectNoAxeViolations(phone);
}

async function enabledUser(portal: TestPortal, email: string) {
  const account = await addUser(portal.core, email);
  await portal.core.enrolment.enable(account, '192.0.2.1');
}

describe('the authenticator web app on a phone, with the portal on a PC', () => {
  let portal: TestPortal;
  let otherPortal: TestPortal;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let pc: Page;
  let phone: Page;
  let phoneContext: BrowserContext;
  const email = 'pat.doe@example.org';

  before(async () => {
    [portal, otherPortal, browser] = await Promise.all([
      // The server offers Web Push (the browser here cannot subscribe: see the test).
      startTestPortal({ engine: 'sqlite', listen: true, vapidPublicKey: newVapidKeys().publicKey }),
      startTestPortal({ engine: 'sqlite', listen: true }),
      launchBrowser(),
    ]);
    await enabledUser(portal, email);
    const opened = await openPage(browser);
    contexts.push(opened.context);
    pc = opened.page;
    const phoneOpened = await openPhone(browser);
    contexts.push(phoneOpened.context);
    phone = phoneOpened.page;
    phoneContext = phoneOpened.context;
    await phoneContext.grantPermissions(['notifications'], { origin: portal.url });
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await portal?.close();
    await otherPortal?.close();
  });

  const eventTypes = async (of: TestPortal, address: string) =>
    (await of.core.audit.list({ email: address })).map((event) => event.type);

  test('registration: the PC wizard, the link pasted in Scan QR code, the number typed, a PIN chosen, Yes', async () => {
    const { appUrl, link } = await wizardToScan(pc, portal, email);

    // The phone opens the app the Download Now QR code leads to: installable, and empty.
    await openApp(phone, appUrl);
    await phone.getByRole('heading', { level: 1, name: 'Authenticator' }).waitFor();
    assert.equal(
      await phone.locator('link[rel="manifest"]').getAttribute('href'),
      '/authenticator/manifest.webmanifest',
    );
    await expectNoAxeViolations(phone);

    await addAccountByPastingTheLink(phone, link);
    await phone.getByRole('status').getByText(`Account added: ${email}.`, { exact: false }).waitFor();

    // The PC's Next: the number to type in the app.
    await pc.getByRole('button', { name: 'Next', exact: true }).click();
    await pc.waitForLoadState('load');
    expectPath(pc, '/mfa/register/number');
    await expectNoAxeViolations(pc);
    const number = await numberOnPc(pc);

    // The request arrives in the open app (server-sent events); a wrong entry is caught first.
    const card = phone.getByRole('article', { name: 'Finish adding your account' });
    await card.waitFor();
    await card.getByRole('button', { name: /^Yes\b/ }).click();
    await card.getByText('Enter the 2-digit number shown on your PC').waitFor();
    await expectNoAxeViolations(phone);
    await approveOnPhone(phone, { title: 'Finish adding your account', number, firstPin: true });
    await phone.getByText(`Approved. This app is now set up for ${email}.`).waitFor();

    // The PC moves on by itself.
    await pc.getByRole('heading', { level: 1, name: 'Notification approved' }).waitFor();
    await expectNoAxeViolations(pc);
    await pc.getByRole('button', { name: 'Next', exact: true }).click();
    await pc.waitForLoadState('load');
    expectPath(pc, '/mfa/register/app-password');
    await expectNoAxeViolations(pc);

    // The device key is WebCrypto's, kept in IndexedDB, and cannot be read out.
    const [stored] = await storedAccounts(phone);
    assert.equal(stored?.account, email);
    assert.equal(stored?.server, portal.url);
    assert.equal(stored?.type, 'private');
    assert.deepEqual(stored?.usages, ['sign']);
    assert.equal(stored?.extractable, false);
    const types = await eventTypes(portal, email);
    assert.ok(types.includes('authenticator.activated'));
    assert.ok(types.includes('authenticator.registered'));
  });

  test('Web Push: where the browser cannot subscribe the app says so; a push message shows a notification', async () => {
    const offer = phone.getByRole('region', { name: 'Notifications' });
    await offer.getByRole('button', { name: 'Turn on notifications', exact: true }).click();
    // Headless Chromium has no push service: the app falls back to server-sent events while open.
    await phone
      .getByRole('status')
      .getByText('Notifications could not be turned on in this browser.', { exact: false })
      .waitFor();
    assert.equal(await offer.count(), 0, 'not offered again in this session');
    await expectNoAxeViolations(phone);

    // What the server would send (protocol: "Web Push"), delivered to the app's service worker.
    const cdp = await phoneContext.newCDPSession(phone);
    const registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => registrations.push(...event.registrations));
    await cdp.send('ServiceWorker.enable');
    const appScope = `${portal.url}/authenticator/`;
    while (!registrations.some((r) => r.scopeURL === appScope && !r.isDeleted))
      await phone.waitForTimeout(100);
    assert.equal(
      registrations.some((r) => r.scopeURL.includes('/authenticator/push/') && !r.isDeleted),
      false,
      'the per-account registration of the failed subscription is gone',
    );
    const registration = registrations.find((r) => r.scopeURL === appScope)!;
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: portal.url,
      registrationId: registration.registrationId,
      data: JSON.stringify({
        requestId: 'r-1',
        purpose: 'sign_in',
        application: APPLICATION,
        account: email,
      }),
    });
    const notifications = async () =>
      phone.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
          title: n.title,
          body: n.body,
          tag: n.tag,
        })),
      );
    let shown = await notifications();
    while (shown.length === 0) {
      await phone.waitForTimeout(100);
      shown = await notifications();
    }
    assert.deepEqual(shown, [
      {
        title: 'Sign-in request',
        body: `${APPLICATION} – ${email}. Open the app to approve or deny it.`,
        tag: 'r-1',
      },
    ]);
    await cdp.detach();
  });

  test('sign-in: the open app shows the request at once with the application, the PC moves on by itself', async () => {
    await signOut(pc);
    await signIn(pc, portal.url, email);
    expectPath(pc, '/mfa/verify');
    await expectNoAxeViolations(pc);
    const number = await numberOnPc(pc);
    const pcUrl = pc.url();

    const card = phone.getByRole('article', { name: 'Are you trying to sign in?' });
    await card.waitFor();
    await card.getByText(APPLICATION, { exact: true }).waitFor();
    await card.getByText(email, { exact: false }).waitFor();
    // No location database: the approximate location is the address the sign-in came from.
    await card.getByText('127.0.0.1', { exact: true }).waitFor();
    assert.match((await card.locator('dd').nth(2).textContent()) ?? '', /^\d\d:\d\d$/);

    // A wrong PIN is refused before anything is sent.
    await card.getByLabel('Enter the number shown to sign in').fill(number);
    await card.getByRole('button', { name: /^Yes\b/ }).click();
    await phone.getByRole('heading', { level: 1, name: 'Enter your PIN' }).waitFor();
    await phone.getByLabel('PIN', { exact: true }).fill('0000');
    await phone.getByRole('button', { name: 'Approve', exact: true }).click();
    await phone.getByRole('alert').getByText('The PIN is not correct').first().waitFor();
    await expectNoAxeViolations(phone);
    assert.equal(pc.url(), pcUrl, 'nothing was answered yet');
    await phone.getByLabel('PIN', { exact: true }).fill(PIN);
    await phone.getByRole('button', { name: 'Approve', exact: true }).click();
    await phone.getByText(`Approved. You can carry on with ${APPLICATION} on your PC.`).waitFor();
    await expectNoAxeViolations(phone);

    await pc.waitForURL((url) => url.pathname === '/');
    await pc.getByRole('heading', { level: 1, name: /^Welcome/ }).waitFor();
    await expectNoAxeViolations(pc);
    assert.ok((await eventTypes(portal, email)).includes('push.approved'));
  });

  test("denial: No, it's not me, then Report; the PC says so and the audit has the report", async () => {
    await signOut(pc);
    await signIn(pc, portal.url, email);
    expectPath(pc, '/mfa/verify');
    await numberOnPc(pc);

    const card = phone.getByRole('article', { name: 'Are you trying to sign in?' });
    await card.waitFor();
    await expectNoAxeViolations(phone);
    await card.getByRole('button', { name: /^No, it's not me/ }).click();
    await phone.getByRole('heading', { level: 1, name: 'Report this request?' }).waitFor();
    await expectNoAxeViolations(phone);
    await phone.getByRole('button', { name: 'Report', exact: true }).click();
    await phone
      .getByRole('status')
      .getByText(/^Request denied and reported\./)
      .waitFor();
    await expectNoAxeViolations(phone);

    await pc.getByRole('heading', { level: 1, name: 'Sign-in stopped' }).waitFor();
    await pc
      .getByRole('alert')
      .getByText('You said in the app that this sign-in was not you.', { exact: false })
      .waitFor();
    await expectNoAxeViolations(pc);
    const types = await eventTypes(portal, email);
    assert.ok(types.includes('push.denied'));
    assert.ok(types.includes('push.reported'));
  });

  test("the app's verification code is accepted by the PC's Use a verification code", async () => {
    await pc.getByRole('link', { name: 'Use a verification code', exact: true }).click();
    await pc.waitForLoadState('load');
    expectPath(pc, '/mfa/verify/code');
    await expectNoAxeViolations(pc);

    const card = phone.getByRole('article', { name: email });
    await card.getByText(/^Changes in \d+ seconds?$/).waitFor();
    await expectNoAxeViolations(phone);
    // Not in the last seconds of a step, so that the code typed is still the current one.
    while (Number(/\d+/.exec((await card.locator('.gh-account__countdown').textContent()) ?? '')?.[0]) < 5)
      await phone.waitForTimeout(500);
    const code = await codeShown(phone, email);
    const [stored] = await storedAccounts(phone);
    assert.equal(code, await totpCode(stored!.secret, new Date()));

    await pc.getByLabel('Verification code', { exact: true }).fill(code);
    await pc.getByRole('button', { name: 'Verify', exact: true }).click();
    await pc.waitForURL((url) => url.pathname === '/');
    await expectNoAxeViolations(pc);
  });

  test('offline: once the service worker is active, the app opens without a network and shows codes', async () => {
    const active = await phone.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return registration.active?.state;
    });
    assert.equal(active, 'activated');
    await phoneContext.setOffline(true);
    try {
      await phone.reload();
      await phone.locator('html[data-app-ready]').waitFor({ state: 'attached' });
      await phone.getByText('You are offline.', { exact: false }).waitFor();
      const code = await codeShown(phone, email);
      const [stored] = await storedAccounts(phone);
      const now = new Date();
      const expected = [
        await totpCode(stored!.secret, now),
        await totpCode(stored!.secret, new Date(now.getTime() - 30_000)),
      ];
      assert.ok(expected.includes(code), `${code} is the current code`);
      await expectNoAxeViolations(phone);
    } finally {
      await phoneContext.setOffline(false);
    }
    await phone.reload();
    await phone.locator('html[data-app-ready]').waitFor({ state: 'attached' });
  });

  test('a second account from the activation link opened directly, on the same app', async () => {
    const second = 'sam.lee@example.org';
    await enabledUser(portal, second);
    const { context, page: pc2 } = await openPage(browser);
    contexts.push(context);
    const { link } = await wizardToScan(pc2, portal, second);

    await openApp(phone, link);
    await phone.getByRole('heading', { level: 1, name: 'Add a work or school account' }).waitFor();
    // The one-time link is not kept in the address bar or the history.
    assert.equal(new URL(phone.url()).hash, '');
    await expectNoAxeViolations(phone);
    await phone.getByRole('button', { name: 'Add account', exact: true }).click();
    await phone.getByRole('status').getByText(`Account added: ${second}.`, { exact: false }).waitFor();

    await pc2.getByRole('button', { name: 'Next', exact: true }).click();
    await pc2.waitForLoadState('load');
    expectPath(pc2, '/mfa/register/number');
    await approveOnPhone(phone, { title: 'Finish adding your account', number: await numberOnPc(pc2) });
    await pc2.getByRole('heading', { level: 1, name: 'Notification approved' }).waitFor();
    await expectNoAxeViolations(pc2);

    assert.deepEqual((await storedAccounts(phone)).map((a) => a.account).sort(), [email, second].sort());
    expectEveryPageChecked(pc2);
  });

  test('an account of another Gatehouse server in the same app, approved, then removed', async () => {
    const elsewhere = 'pat.doe@elsewhere.example.org';
    await enabledUser(otherPortal, elsewhere);
    const { context, page: pc3 } = await openPage(browser);
    contexts.push(context);
    const { link } = await wizardToScan(pc3, otherPortal, elsewhere);
    assert.ok(!link.startsWith(portal.url));

    // This time the phone's camera reads the QR code: Chromium here has no BarcodeDetector or
    // camera, so stand-ins give the app a picture and read it as the QR code's link.
    await phoneContext.addInitScript(() => {
      const scope = globalThis as unknown as { testQrCode?: string; BarcodeDetector?: unknown };
      scope.BarcodeDetector = class {
        async detect() {
          return scope.testQrCode ? [{ rawValue: scope.testQrCode }] : [];
        }
      };
      navigator.mediaDevices.getUserMedia = async () => {
        const canvas = document.createElement('canvas');
        canvas.width = 64;
        canvas.height = 64;
        canvas.getContext('2d')?.fillRect(0, 0, 64, 64);
        return canvas.captureStream();
      };
    });
    await openApp(phone, `${portal.url}/authenticator/`);
    await phone.getByRole('button', { name: '+ Add account', exact: true }).click();
    await phone.getByRole('button', { name: 'Work or school account', exact: true }).click();
    await phone.getByRole('button', { name: 'Scan QR code', exact: true }).click();
    await phone.getByRole('status').getByText('Point your camera at the QR code on your PC.').waitFor();
    assert.equal(await phone.getByText('This browser cannot scan QR codes.', { exact: false }).count(), 0);
    await expectNoAxeViolations(phone);
    await phone.evaluate((qr) => {
      (globalThis as unknown as { testQrCode?: string }).testQrCode = qr;
    }, link);
    await phone.getByRole('status').getByText(`Account added: ${elsewhere}.`, { exact: false }).waitFor();
    // The camera is off once the code is read.
    assert.equal(await phone.locator('video').count(), 0);
    await pc3.getByRole('button', { name: 'Next', exact: true }).click();
    await pc3.waitForLoadState('load');
    await approveOnPhone(phone, { title: 'Finish adding your account', number: await numberOnPc(pc3) });
    await pc3.getByRole('heading', { level: 1, name: 'Notification approved' }).waitFor();
    await expectNoAxeViolations(pc3);
    const servers = (await storedAccounts(phone)).map((a) => a.server).sort();
    assert.deepEqual(servers, [portal.url, portal.url, otherPortal.url].sort());
    await phone
      .getByRole('article', { name: elsewhere })
      .getByText(new URL(otherPortal.url).host, { exact: false })
      .waitFor();

    // While that server cannot be reached, its account says so; the others carry on.
    const otherHost = new URL(otherPortal.url).host;
    const server = otherPortal.app.server;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    const cannotReach = phone.getByText(`${otherHost} cannot be reached at the moment`, { exact: false });
    await cannotReach.waitFor();
    assert.equal(await cannotReach.count(), 1, 'only the account of the server that is down');
    await expectNoAxeViolations(phone);

    // Remove: a confirmation, then the server forgets the device and the app the account.
    await phone.getByRole('button', { name: `Remove account ${elsewhere}`, exact: true }).click();
    await phone.getByRole('heading', { level: 1, name: 'Remove account?' }).waitFor();
    await expectNoAxeViolations(phone);
    // Not while the server cannot be told: the app keeps the account and says why.
    await phone.getByRole('button', { name: `Remove account ${elsewhere}`, exact: true }).click();
    await phone
      .getByRole('alert')
      .getByText(`Could not reach ${otherHost}. Check you are online, then try again.`)
      .waitFor();
    await expectNoAxeViolations(phone);
    assert.equal((await storedAccounts(phone)).length, 3);
    await new Promise<void>((resolve) =>
      server.listen(Number(new URL(otherPortal.url).port), '127.0.0.1', resolve),
    );
    await cannotReach.waitFor({ state: 'detached', timeout: 40_000 });
    await phone.getByRole('button', { name: `Remove account ${elsewhere}`, exact: true }).click();
    await phone.getByRole('status').getByText(`Account removed: ${elsewhere}.`).waitFor();
    await expectNoAxeViolations(phone);
    assert.equal(await phone.getByRole('article', { name: elsewhere }).count(), 0);
    assert.deepEqual(
      (await storedAccounts(phone)).map((a) => a.account).sort(),
      [email, 'sam.lee@example.org'].sort(),
    );
    assert.ok((await eventTypes(otherPortal, elsewhere)).includes('authenticator.removed'));
    expectEveryPageChecked(pc3);
  });

  test('the app runs under its own Content Security Policy (no inline script), not bypassed', async () => {
    const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 320, height: 568 } });
    contexts.push(context);
    const page = await context.newPage();
    const refused: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
    });
    const response = await page.goto(`${portal.url}/authenticator`);
    assert.match(response?.headers()['content-security-policy'] ?? '', /connect-src 'self' https:/);
    expectPath(page, '/authenticator/');
    await page.locator('html[data-app-ready]').waitFor({ state: 'attached' });
    await page.getByRole('button', { name: '+ Add account', exact: true }).waitFor();
    assert.deepEqual(refused, []);
    // Nothing is wider than the smallest phone screen.
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);
  });

  test('every PC page was checked', () => {
    expectEveryPageChecked(pc);
  });
});

describe('the authenticator web app on PostgreSQL', async () => {
  const unavailable = await postgresUnavailable();
  let portal: TestPortal;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    if (unavailable) return;
    [portal, browser] = await Promise.all([
      startTestPortal({ engine: 'postgres', listen: true }),
      launchBrowser(),
    ]);
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await portal?.close();
  });

  test('registration and a sign-in approved in the app', { skip: unavailable ?? false }, async () => {
    const email = 'pg.user@example.org';
    await enabledUser(portal, email);
    const { context, page: pc } = await openPage(browser);
    const { context: phoneContext, page: phone } = await openPhone(browser);
    contexts.push(context, phoneContext);
    const { appUrl, link } = await wizardToScan(pc, portal, email);
    await openApp(phone, appUrl);
    await addAccountByPastingTheLink(phone, link);
    await pc.getByRole('button', { name: 'Next', exact: true }).click();
    await pc.waitForLoadState('load');
    await expectNoAxeViolations(pc);
    await approveOnPhone(phone, {
      title: 'Finish adding your account',
      number: await numberOnPc(pc),
      firstPin: true,
    });
    await pc.getByRole('heading', { level: 1, name: 'Notification approved' }).waitFor();
    await expectNoAxeViolations(pc);
    await pc.getByRole('button', { name: 'Next', exact: true }).click();
    await pc.waitForLoadState('load');
    await expectNoAxeViolations(pc);
    await signOut(pc);
    await signIn(pc, portal.url, email);
    expectPath(pc, '/mfa/verify');
    await expectNoAxeViolations(pc);
    await approveOnPhone(phone, {
      title: 'Are you trying to sign in?',
      number: await numberOnPc(pc),
      application: APPLICATION,
    });
    await pc.waitForURL((url) => url.pathname === '/');
    await expectNoAxeViolations(pc);
    expectEveryPageChecked(pc);
  });
});

describe("the device's screen lock instead of a PIN, where the platform offers it", () => {
  let portal: TestPortal;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    portal = await startTestPortal({ engine: 'sqlite', listen: true });
    // WebAuthn needs a domain name: the phone opens the app at localhost (the PC stays on the
    // address). As in launchBrowser, nothing else resolves.
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost',
      ],
    });
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await portal?.close();
  });

  test('set up at the first Yes with a platform authenticator, then asked before each Yes', async () => {
    const email = 'screen.lock@example.org';
    await enabledUser(portal, email);
    const { context, page: pc } = await openPage(browser);
    const { context: phoneContext, page: phone } = await openPhone(browser);
    contexts.push(context, phoneContext);
    // The phone's fingerprint reader: Chromium's virtual authenticator, verifying the user.
    const { cdp, authenticatorId } = await virtualAuthenticator(phone);

    const { link } = await wizardToScan(pc, portal, email);
    await openApp(phone, `${portal.url.replace('127.0.0.1', 'localhost')}/authenticator/`);
    await addAccountByPastingTheLink(phone, link);
    await phone.getByRole('status').getByText(`Account added: ${email}.`, { exact: false }).waitFor();
    await pc.getByRole('button', { name: 'Next', exact: true }).click();
    await pc.waitForLoadState('load');
    await expectNoAxeViolations(pc);

    const card = phone.getByRole('article', { name: 'Finish adding your account' });
    await card.getByLabel(/^Enter the number shown/).fill(await numberOnPc(pc));
    await card.getByRole('button', { name: /^Yes\b/ }).click();
    await phone.getByRole('heading', { level: 1, name: 'Choose a PIN' }).waitFor();
    await phone.getByRole('heading', { level: 2, name: 'Or use your screen lock' }).waitFor();
    await expectNoAxeViolations(phone);
    await phone.getByRole('button', { name: 'Use my screen lock instead', exact: true }).click();
    await phone.getByText(`Approved. This app is now set up for ${email}.`).waitFor();
    await pc.getByRole('heading', { level: 1, name: 'Notification approved' }).waitFor();
    await expectNoAxeViolations(pc);
    await pc.getByRole('button', { name: 'Next', exact: true }).click();
    await pc.waitForLoadState('load');
    await expectNoAxeViolations(pc);

    // No app PIN was made; the screen lock's credential is kept instead.
    const settings = await phone.evaluate(
      () =>
        new Promise<string[]>((resolve, reject) => {
          const open = indexedDB.open('gatehouse-authenticator');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const keys = open.result.transaction('settings').objectStore('settings').getAllKeys();
            keys.onsuccess = () => resolve(keys.result.map(String));
          };
        }),
    );
    assert.deepEqual(settings, ['screenLock']);

    await signOut(pc);
    await signIn(pc, portal.url, email);
    expectPath(pc, '/mfa/verify');
    await expectNoAxeViolations(pc);
    const request = phone.getByRole('article', { name: 'Are you trying to sign in?' });
    await request.getByLabel('Enter the number shown to sign in').fill(await numberOnPc(pc));
    await request.getByRole('button', { name: /^Yes\b/ }).click();
    await phone.getByRole('heading', { level: 1, name: "Confirm it's you" }).waitFor();
    await expectNoAxeViolations(phone);

    // Someone else's finger: the screen lock does not verify the user, and nothing is sent.
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
    await phone.getByRole('button', { name: 'Use screen lock', exact: true }).click();
    await phone
      .getByRole('alert')
      .getByText('Your screen lock did not confirm it is you', { exact: false })
      .waitFor();
    await expectNoAxeViolations(phone);
    expectPath(pc, '/mfa/verify');

    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });
    await phone.getByRole('button', { name: 'Use screen lock', exact: true }).click();
    await phone.getByText(`Approved. You can carry on with ${APPLICATION} on your PC.`).waitFor();
    await expectNoAxeViolations(phone);
    await pc.waitForURL((url) => url.pathname === '/');
    await expectNoAxeViolations(pc);
    expectEveryPageChecked(pc);
  });
});
