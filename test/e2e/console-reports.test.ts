import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { systemClock } from '../../src/core/clock.ts';
import { CLI_ACTOR } from '../../src/core/console/actor.ts';
import {
  expectEveryPageChecked,
  expectNoAxeViolations,
  expectPath,
  launchBrowser,
  openPage,
  signIn,
} from '../helpers/browser.ts';
import { insertPhone } from '../helpers/own-account.ts';
import { addUser, startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';

/** Follows a link or sends a form, and waits for the page it leads to. */
async function follow(page: Page, click: () => Promise<void>) {
  await Promise.all([page.waitForNavigation(), click()]);
}

/** The file a download link gives, as text. */
async function downloaded(page: Page, link: ReturnType<Page['getByRole']>): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const path = await download.path();
  return readFileSync(path, 'utf8');
}

/**
 * An operator reads the registration report of a directory with known numbers (7 accounts: 3
 * with the authenticator app, one of them the operator, 2 with a phone, 1 exempt, 1 with nothing
 * yet), opens the list behind a number and downloads it; then filters the audit log by an account
 * and downloads that. Axe checks every page.
 */
describe('Operator console: registration report and audit log in the browser', () => {
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

  test('the numbers shown and downloaded are the directory as it is', async () => {
    const journeys = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
    const desk = await journeys.registered(); // the authenticator app, MFA enabled
    await portal.core.console.grant(CLI_ACTOR, desk.email, 'operator');
    const id = async (email: string) => (await portal.core.accounts.find(email))?.id ?? assert.fail(email);
    for (const email of ['app.two@example.org', 'app.three@example.org']) {
      await addUser(portal.core, email, { groups: ['ward 7'] });
      await portal.store.methods.insert({
        id: randomUUID(),
        accountId: await id(email),
        kind: 'authenticator_app',
        label: 'Phone',
        status: 'active',
        isDefault: true,
        createdAt: new Date(),
        lastUsedAt: null,
        data: {},
      });
      await portal.store.accounts.enableMfa(await id(email), new Date());
    }
    for (const [email, number] of [
      ['phone.one@example.org', '+447700900111'],
      ['phone.two@example.org', '+447700900222'],
    ] as const) {
      await addUser(portal.core, email, {
        groups: ['ward 7'],
        displayName: `=cmd|' /C calc'!A0 ${email.slice(6, 9)}`,
      });
      await insertPhone(portal.store, await id(email), number, true);
      await portal.store.accounts.enableMfa(await id(email), new Date());
    }
    await addUser(portal.core, 'exempt.one@example.org');
    await portal.core.console.exemptions.exemptAccount(CLI_ACTOR, 'exempt.one@example.org', {
      owner: 'Estates',
      reason: 'No phones in the plant room',
      reviewAt: new Date(Date.now() + 30 * 86_400_000),
    });
    await addUser(portal.core, 'nothing.yet@example.org', { groups: ['ward 7'] });

    const { context, page } = await openPage(browser);
    contexts.push(context);
    await signIn(page, portal.url, desk.email);
    expectPath(page, '/mfa/verify');
    await expectNoAxeViolations(page);
    const [request] = await desk.phone.pendingIds();
    const number = (await page.locator('#matching-number').textContent())?.trim() ?? '';
    await desk.phone.answer(request!, 'approve', number);
    await page.waitForURL(`${portal.url}/`);
    await expectNoAxeViolations(page);

    await page.goto(`${portal.url}/admin`);
    expectPath(page, '/admin/accounts');
    await expectNoAxeViolations(page);
    await follow(page, () => page.getByRole('link', { name: 'reports', exact: true }).click());
    expectPath(page, '/admin/reports');
    await expectNoAxeViolations(page);
    const shown = async (id: string) => (await page.locator(`#count-${id} td`).textContent())?.trim();
    const expected = {
      all: '7',
      mfa_enabled: '5',
      mfa_not_enabled: '2',
      'method-authenticator_app': '3',
      'method-phone': '2',
      'method-totp': '0',
      'method-smartcard': '0',
      none: '1',
      exempt: '1',
      shared_mailbox: '0',
    };
    for (const [category, count] of Object.entries(expected))
      assert.equal(await shown(category), count, category);
    const ward = page.locator('#groups tr', { hasText: 'ward 7' });
    assert.deepEqual(
      (await ward.locator('td').allTextContents()).map((t) => t.trim()),
      ['5', '4', '4', '0', '1'],
      'ward 7: members, MFA enabled, with a method, exempt, no method yet',
    );

    // The list behind "With a phone", and its download (formula-like names defused).
    await follow(page, () => page.getByRole('link', { name: 'With a phone: 2, list them' }).click());
    expectPath(page, '/admin/reports/registration');
    await expectNoAxeViolations(page);
    assert.equal((await page.locator('#list-count').textContent())?.trim(), '2 accounts.');
    await page.getByRole('link', { name: 'phone.one@example.org' }).waitFor();
    const csv = await downloaded(page, page.getByRole('link', { name: 'Download all 2 (CSV)' }));
    assert.equal(
      csv,
      '"email","name","mfa_enabled","disabled"\r\n' +
        `"phone.one@example.org","'=cmd|' /C calc'!A0 one","yes","no"\r\n` +
        `"phone.two@example.org","'=cmd|' /C calc'!A0 two","yes","no"\r\n`,
    );
    await follow(page, () => page.getByRole('link', { name: 'Back to the reports' }).click());
    await expectNoAxeViolations(page);
    await follow(page, () =>
      page.getByRole('link', { name: 'No method registered yet: 1, list them' }).click(),
    );
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'nothing.yet@example.org' }).waitFor();

    // Sign-in activity: the operator's own sign-in is there.
    await page.goto(`${portal.url}/admin/reports/activity`);
    await expectNoAxeViolations(page);
    await page.locator('#steps td', { hasText: 'Authenticator app (approval)' }).first().waitFor();

    // The audit log, filtered by one account, then downloaded.
    await page.goto(`${portal.url}/admin/accounts`);
    await expectNoAxeViolations(page);
    await follow(page, () => page.getByRole('link', { name: 'the audit log' }).click());
    expectPath(page, '/admin/audit');
    await expectNoAxeViolations(page);
    await page.getByLabel('Account (email address)').fill('exempt.one@example.org');
    await follow(page, () => page.getByRole('button', { name: 'Show events' }).click());
    await expectNoAxeViolations(page);
    const rows = page.locator('table tbody tr');
    const types = (await rows.locator('td:nth-child(2)').allTextContents()).map((t) => t.trim());
    assert.deepEqual(types, ['exemption.set', 'account.added']);
    const log = await downloaded(page, page.getByRole('link', { name: 'Download these events (CSV)' }));
    const lines = log.split('\r\n').filter(Boolean);
    assert.equal(lines.length, 3);
    assert.match(lines[1] ?? '', /^"\d+","[^"]+","exemption\.set","exempt\.one@example\.org","cli",/);
    assert.match(lines[2] ?? '', /"account\.added","exempt\.one@example\.org"/);

    // A reversed range: a clear message, on the page, nothing shown.
    await page.getByLabel('From').fill('2026-06-05');
    await page.getByLabel('To (including that day)').fill('2026-06-01');
    await follow(page, () => page.getByRole('button', { name: 'Show events' }).click());
    await page.getByText('The end of the time range must be after its start').first().waitFor();
    await expectNoAxeViolations(page);
    expectEveryPageChecked(page);

    const [exported] = await portal.core.audit.list({ limit: 1 });
    assert.equal(exported?.type, 'console.exported');
    assert.equal(exported?.actor, desk.email);
  });
});
