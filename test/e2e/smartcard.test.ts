import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { expectNoAxeViolations, expectPath, launchBrowser, openPage } from '../helpers/browser.ts';
import {
  autoSelectCertificatePolicy,
  importPkcs12,
  nssHome,
  softwareSmartcard,
  trustCaInNss,
} from '../helpers/nss.ts';
import { type IssuedCertificate, pkiFolder, type TestCa } from '../helpers/pki.ts';
import { addUser, type TestPortal } from '../helpers/portal.ts';
import { type CardWorld, cardPortal, cardWorld } from '../helpers/smartcard.ts';

/**
 * `Log in with my Care identity` in Chromium: the card's certificate and key are in the browser's
 * NSS database and chosen by the AutoSelectCertificateForUrls policy, as a managed desktop would.
 */
describe('Log in with my Care identity in Chromium (certificate in NSS)', () => {
  const pki = pkiFolder();
  let ca: TestCa;
  let serverCa: TestCa;
  let alice: IssuedCertificate;
  let portal: TestPortal;
  let browser: Browser;
  let nss: ReturnType<typeof nssHome>;
  let policy: { remove(): void };
  let world: CardWorld;

  before(async () => {
    ({ ca, serverCa } = world = cardWorld(pki));
    alice = ca.issue('alice', { commonName: 'Alice Smartcard', email: 'alice@example.org' });
    portal = await cardPortal(world);
    await addUser(portal.core, 'alice@example.org', { displayName: 'Alice Example' });
    nss = nssHome();
    trustCaInNss(nss.db, 'Test Server CA', serverCa.certFile);
    importPkcs12(nss.db, ca.pkcs12(alice));
    policy = autoSelectCertificatePolicy(portal.certificateEndpointUrl, 'Test Care Identity CA');
    browser = await launchBrowser({ env: { HOME: nss.home } });
  });
  after(async () => {
    await browser?.close();
    policy?.remove();
    nss?.remove();
    await portal?.close();
    pki.remove();
  });

  test('sign-in page, the card read, Next, the portal: every page accessible', async () => {
    const { context, page } = await openPage(browser);
    await page.goto(`${portal.url}/signin`);
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'Log in with my Care identity' }).click();
    await page.waitForURL(`${portal.certificateEndpointUrl}/signin?**`);
    await page.getByRole('heading', { name: 'Log in with my Care identity' }).waitFor();
    assert.match(await page.locator('main').innerText(), /Alice Smartcard[\s\S]*alice@example\.org/);
    await expectNoAxeViolations(page);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.waitForURL(`${portal.url}/`);
    expectPath(page, '/');
    assert.match(await page.locator('main').innerText(), /Alice Example/);
    await expectNoAxeViolations(page);

    // Security info lists the smartcard section, accessible too.
    await page.goto(`${portal.url}/profile/security-info`);
    await page.getByRole('heading', { name: 'Smartcards' }).waitFor();
    await expectNoAxeViolations(page);
    const [signedIn] = (await portal.core.audit.list({ email: 'alice@example.org', limit: 5 })).filter(
      (e) => e.type === 'smartcard.signed_in',
    );
    assert.deepEqual(signedIn?.detail.factors, ['sc', 'hwk', 'mfa']);
    await context.close();
  });

  test('a page that cannot go on says why and offers the way back, accessibly', async () => {
    const { context, page } = await openPage(browser);
    // Opened directly, without the portal's start: no state to bind a ticket to.
    await page.goto(`${portal.certificateEndpointUrl}/signin`);
    assert.match(await page.locator('main').innerText(), /Start again from the sign-in page/);
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'Sign in with your email address and password instead' }).click();
    await page.waitForURL(`${portal.url}/signin`);
    await context.close();
  });
});

/** The same journey with the key on a software smartcard (softhsm2) that NSS reaches over PKCS#11. */
describe('Log in with my Care identity in Chromium (key on a softhsm2 smartcard)', () => {
  const pki = pkiFolder();
  let portal: TestPortal;
  let nss: ReturnType<typeof nssHome>;
  let policy: { remove(): void };
  let card: { conf: string; emptyReaderConf: string };

  before(async () => {
    const world = cardWorld(pki);
    const { ca, serverCa } = world;
    const bob = ca.issue('bob', { commonName: 'Bob Smartcard', upn: 'bob@example.org' });
    portal = await cardPortal(world);
    await addUser(portal.core, 'bob@example.org', { displayName: 'Bob Example' });
    nss = nssHome();
    trustCaInNss(nss.db, 'Test Server CA', serverCa.certFile);
    trustCaInNss(nss.db, 'Test Care Identity CA', ca.certFile);
    card = softwareSmartcard(nss.home, nss.db, bob);
    policy = autoSelectCertificatePolicy(portal.certificateEndpointUrl, 'Test Care Identity CA');
  });
  after(async () => {
    policy?.remove();
    nss?.remove();
    await portal?.close();
    pki.remove();
  });

  async function journey(softhsmConf: string) {
    const browser = await launchBrowser({ env: { HOME: nss.home, SOFTHSM2_CONF: softhsmConf } });
    const { page } = await openPage(browser);
    await page.goto(`${portal.url}/signin`);
    await page.getByRole('link', { name: 'Log in with my Care identity' }).click();
    await page.waitForURL(`${portal.certificateEndpointUrl}/signin?**`);
    return { browser, page };
  }

  test('with the card in the reader: signed in', async () => {
    const { browser, page } = await journey(card.conf);
    try {
      assert.match(await page.locator('main').innerText(), /Bob Smartcard/);
      await page.getByRole('button', { name: 'Next' }).click();
      await page.waitForURL(`${portal.url}/`);
      assert.match(await page.locator('main').innerText(), /Bob Example/);
    } finally {
      await browser.close();
    }
  });

  test('with the card taken out: no smartcard was found, accessibly', async () => {
    const { browser, page } = await journey(card.emptyReaderConf);
    try {
      assert.match(await page.locator('main').innerText(), /No smartcard was found/);
      await expectNoAxeViolations(page);
    } finally {
      await browser.close();
    }
  });
});
