import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { CLI_ACTOR } from '../../src/core/console/actor.ts';
import {
  expectEveryPageChecked,
  expectNoAxeViolations,
  expectPath,
  launchBrowser,
  openPage,
} from '../helpers/browser.ts';
import { manualClock } from '../helpers/clock.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';

const DAY_MINUTES = 24 * 60;

/**
 * The exemption register's review date in Chromium (issue 13, part 4): while a group's exemption
 * holds, its member signs in with the password alone and reads the group's guidance; once the
 * review date has passed it no longer counts, and the next sign-in takes the member to
 * Self-Service to enrol.
 */
describe('Operator console: an exemption past its review date', () => {
  // Today, so that the portal's cookies (dated by this clock) are not already expired for the browser.
  const clock = manualClock(new Date().toISOString());
  let portal: TestPortal;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    [portal, browser] = await Promise.all([startTestPortal({ listen: true, clock }), launchBrowser()]);
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await portal?.close();
  });

  async function signIn(email: string) {
    const { context, page } = await openPage(browser);
    contexts.push(context);
    await page.goto(`${portal.url}/signin`);
    await expectNoAxeViolations(page);
    await page.getByLabel('Email address', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForLoadState('load');
    return page;
  }

  test('the member is exempt until the review date, then asked to enrol at the next sign-in', async () => {
    const email = 'theatre.member@example.org';
    await addUser(portal.core, email, { groups: ['theatres'] });
    await portal.core.console.exemptions.exemptGroup(CLI_ACTOR, 'theatres', {
      message: 'Theatre staff: guidance on MFA will follow from the theatre manager.',
      owner: 'Theatre manager',
      reason: 'no phones in theatre',
      reviewAt: new Date(clock.now().getTime() + 5 * DAY_MINUTES * 60_000),
    });

    const exempt = await signIn(email);
    expectPath(exempt, '/');
    await expectNoAxeViolations(exempt);
    await exempt.goto(`${portal.url}/profile/self-service`);
    await exempt.getByText('guidance on MFA will follow from the theatre manager').waitFor();
    assert.equal(
      await exempt.getByRole('link', { name: 'Self-enrol' }).count(),
      0,
      'not offered while exempt',
    );
    await expectNoAxeViolations(exempt);
    expectEveryPageChecked(exempt);

    clock.advanceMinutes(6 * DAY_MINUTES);
    const lapsed = await signIn(email);
    expectPath(lapsed, '/profile/self-service');
    await lapsed.getByText(/no longer has an exception from multi-factor authentication/).waitFor();
    await expectNoAxeViolations(lapsed);
    await lapsed.getByRole('link', { name: 'Self-enrol' }).click();
    expectPath(lapsed, '/profile/self-service/mfa');
    await expectNoAxeViolations(lapsed);
    expectEveryPageChecked(lapsed);
    const entry = (await portal.core.console.exemptions.list()).find((e) => e.name === 'theatres');
    assert.equal(entry?.status, 'lapsed');
  });
});
