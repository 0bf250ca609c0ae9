import assert from 'node:assert/strict';
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
import { startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';

async function numberOn(page: Page) {
  const number = (await page.locator('#matching-number').textContent())?.trim() ?? '';
  assert.match(number, /^[1-9]\d$/);
  return number;
}

const secretOn = async (page: Page) => (await page.locator('#client-secret').textContent())?.trim() ?? '';

/**
 * An operator in Chromium, axe on every page: adds an application (a bad redirect URI first,
 * refused in words), sees its secret once, rotates it (a new one, the old one gone), removes it
 * after the confirmation page.
 */
describe('Operator console: applications', () => {
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

  test('add an application, see the secret once, rotate it, remove it', async () => {
    const journeys = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
    const desk = await journeys.registered();
    await portal.core.console.grant(CLI_ACTOR, desk.email, 'operator');

    const { context, page } = await openPage(browser);
    contexts.push(context);
    await signIn(page, portal.url, desk.email);
    expectPath(page, '/mfa/verify');
    await expectNoAxeViolations(page);
    const [request] = await desk.phone.pendingIds();
    await desk.phone.answer(request!, 'approve', await numberOn(page));
    await page.waitForURL(`${portal.url}/`);
    await expectNoAxeViolations(page);

    // The console's address, typed (as in operator-console.test.ts); its pages link to each other.
    await page.goto(`${portal.url}/admin`);
    expectPath(page, '/admin/accounts');
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'Applications', exact: true }).click();
    expectPath(page, '/admin/applications');
    await page.getByText('No applications yet.').waitFor();
    await expectNoAxeViolations(page);

    // A wildcard redirect URI: refused beside the field, what was typed kept, nothing added.
    await page.getByRole('button', { name: 'Add an application' }).click();
    expectPath(page, '/admin/applications/new');
    await expectNoAxeViolations(page);
    await page.getByLabel('Name').fill('Rota');
    await page.getByLabel('Redirect URIs').fill('https://*.rota.example.org/callback');
    await page.getByRole('button', { name: 'Add application' }).click();
    await page.getByText('There is a problem').waitFor();
    await page.getByRole('link', { name: /Each redirect URI must not have a \*/ }).waitFor();
    assert.equal(await page.getByLabel('Name').inputValue(), 'Rota');
    await expectNoAxeViolations(page);
    assert.deepEqual(await portal.core.applications.list(), []);

    await page.getByLabel('Redirect URIs').fill('https://rota.example.org/callback');
    await page.getByLabel('Sign-out return addresses (optional)').fill('https://rota.example.org/');
    await page.getByLabel('Every sign-in to it needs MFA').check();
    await page.getByRole('button', { name: 'Add application' }).click();
    await page.getByRole('heading', { level: 1, name: 'Application added' }).waitFor();
    await page.getByText('It is shown only this once').waitFor();
    await expectNoAxeViolations(page);
    const first = await secretOn(page);
    const clientId = (await page.locator('#client-id').textContent())?.trim() ?? '';
    const added = await portal.core.applications.find(clientId);
    assert.ok(added?.requireMfa);
    assert.equal(portal.core.applications.secretOf(added), first, 'the secret shown is the one kept');

    // The application's page never shows the secret again.
    await page.getByRole('link', { name: 'I have copied it: go to the application' }).click();
    expectPath(page, `/admin/applications/${clientId}`);
    await expectNoAxeViolations(page);
    assert.equal((await page.content()).includes(first), false);

    await page.getByLabel('Reason (optional, kept in the audit log)').fill('Secret pasted in a ticket');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('heading', { level: 1, name: 'New client secret' }).waitFor();
    await page.getByText('The old secret has stopped working').waitFor();
    await expectNoAxeViolations(page);
    const second = await secretOn(page);
    assert.notEqual(second, first);
    const rotated = await portal.core.applications.find(clientId);
    assert.ok(rotated);
    assert.equal(portal.core.applications.secretOf(rotated), second);

    await page.getByRole('link', { name: 'I have copied it: go to the application' }).click();
    await expectNoAxeViolations(page);
    await page.getByRole('link', { name: 'Remove Rota' }).click();
    expectPath(page, `/admin/applications/${clientId}/remove`);
    await page.getByRole('heading', { level: 1, name: 'Remove Rota?' }).waitFor();
    await expectNoAxeViolations(page);
    assert.ok(await portal.core.applications.find(clientId), 'not removed before the confirmation');
    await page.getByRole('button', { name: 'Remove application' }).click();
    await page.getByText('Rota was removed').waitFor();
    expectPath(page, `/admin/applications/${clientId}/remove`);
    await expectNoAxeViolations(page);
    assert.equal(await portal.core.applications.find(clientId), undefined);
    expectEveryPageChecked(page);

    const events = (await portal.core.audit.list({ limit: 50 })).filter((e) =>
      e.type.startsWith('application.'),
    );
    assert.deepEqual(
      events.map((e) => [e.type, e.actor]),
      [
        ['application.removed', desk.email],
        ['application.secret_rotated', desk.email],
        ['application.added', desk.email],
      ],
    );
  });
});
