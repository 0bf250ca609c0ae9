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
} from '../helpers/browser.ts';
import { startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { activationCodeOn, pushJourneys } from '../helpers/push-journeys.ts';
import { TestDevice } from '../helpers/test-device.ts';

/** Enter, and the page it leads to (a link followed, a form sent). */
async function enter(page: Page) {
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
}

/** Focuses an element and presses Enter: what a keyboard user does with Tab and Enter. */
async function press(page: Page, target: ReturnType<Page['getByRole']>) {
  await target.focus();
  await enter(page);
}

/** The sign-in page by keyboard: type, Tab, type, Enter. */
async function keyboardSignIn(page: Page, url: string, email: string) {
  await page.goto(`${url}/signin`);
  await expectNoAxeViolations(page);
  await page.getByLabel('Email address', { exact: true }).focus();
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(TEST_PASSWORD);
  await enter(page);
}

async function numberOn(page: Page) {
  const number = (await page.locator('#matching-number').textContent())?.trim() ?? '';
  assert.match(number, /^[1-9]\d$/);
  return number;
}

/**
 * The service desk's journey in Chromium, by keyboard: an operator finds a user who lost their
 * phone and issues a Temporary Access Pass; the user signs in with the password and the pass,
 * registers a new authenticator app and signs in with it; the pass no longer works.
 */
describe('Operator console: a Temporary Access Pass for a lost phone', () => {
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

  test('find the user, issue a pass; the user registers a new app with it; the pass is spent', async () => {
    const journeys = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
    const desk = await journeys.registered();
    const lost = await journeys.registered();
    await portal.core.console.grant(CLI_ACTOR, desk.email, 'operator');

    // The operator signs in (password, then the number in their app) and opens the console.
    const operator = await openPage(browser);
    contexts.push(operator.context);
    const op = operator.page;
    await keyboardSignIn(op, portal.url, desk.email);
    expectPath(op, '/mfa/verify');
    await expectNoAxeViolations(op);
    const [deskRequest] = await desk.phone.pendingIds();
    await desk.phone.answer(deskRequest!, 'approve', await numberOn(op));
    await op.waitForURL(`${portal.url}/`);
    await expectNoAxeViolations(op);
    // The console's address, typed (an account without a role would get Page not found).
    await op.goto(`${portal.url}/admin`);
    expectPath(op, '/admin/accounts');
    await expectNoAxeViolations(op);

    // Find the user by the start of their email address.
    await op.getByLabel('Email address or name').focus();
    await op.keyboard.type(lost.email.slice(0, 8));
    await enter(op);
    await expectNoAxeViolations(op);
    await press(op, op.getByRole('link', { name: lost.email }));
    expectPath(op, `/admin/accounts/${encodeURIComponent(lost.email)}`);
    await op.getByRole('cell', { name: 'Test phone' }).waitFor();
    await expectNoAxeViolations(op);

    // Issue a one-time pass for an hour, with the reason; Enter in the reason field sends it.
    await op.locator('#pass-reason').focus();
    await op.keyboard.type('Lost phone, service desk call 4711');
    await enter(op);
    await op.getByRole('heading', { level: 1, name: 'Temporary Access Pass' }).waitFor();
    await expectNoAxeViolations(op);
    const pass = (await op.locator('#temporary-pass').textContent())?.trim() ?? '';
    assert.match(pass, /^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$/);
    expectEveryPageChecked(op);

    // The user: password, then the pass instead of the lost phone.
    const pc = await openPage(browser);
    contexts.push(pc.context);
    const user = pc.page;
    await keyboardSignIn(user, portal.url, lost.email);
    expectPath(user, '/mfa/verify');
    await expectNoAxeViolations(user);
    await press(user, user.getByRole('link', { name: 'I lost my phone: use a Temporary Access Pass' }));
    expectPath(user, '/mfa/verify/pass');
    await expectNoAxeViolations(user);
    await user.getByLabel('Temporary Access Pass').focus();
    await user.keyboard.type(pass);
    await enter(user);
    expectPath(user, '/mfa/register');
    await expectNoAxeViolations(user);

    // The registration wizard, with a new phone.
    await press(
      user,
      user.getByRole('link', { name: 'Click me to enrol for Multi-Factor Authentication', exact: true }),
    );
    expectPath(user, '/mfa/register/start');
    await expectNoAxeViolations(user);
    await press(user, user.getByRole('link', { name: 'Next', exact: true }));
    expectPath(user, '/mfa/register/app');
    await expectNoAxeViolations(user);
    await press(user, user.getByRole('button', { name: 'Next', exact: true }));
    expectPath(user, '/mfa/register/scan');
    await expectNoAxeViolations(user);
    const code = activationCodeOn(await user.content());
    assert.ok(code, 'the scan page carries the activation link');
    const newPhone = await TestDevice.create(portal.app);
    assert.equal((await newPhone.activate(code, 'New phone')).statusCode, 200);
    await press(user, user.getByRole('button', { name: 'Next', exact: true }));
    expectPath(user, '/mfa/register/number');
    await expectNoAxeViolations(user);
    const [registration] = await newPhone.pendingIds();
    await newPhone.answer(registration!, 'approve', await numberOn(user));
    await user.getByRole('heading', { level: 1, name: 'Notification approved' }).waitFor();
    await expectNoAxeViolations(user);
    await press(user, user.getByRole('button', { name: 'Next', exact: true }));
    expectPath(user, '/mfa/register/app-password');
    await expectNoAxeViolations(user);

    // Signing in again: the password, then the number approved on the new phone.
    await press(user, user.getByRole('button', { name: 'Sign out' }));
    await keyboardSignIn(user, portal.url, lost.email);
    expectPath(user, '/mfa/verify');
    await expectNoAxeViolations(user);
    const [signIn] = await newPhone.pendingIds();
    assert.ok(signIn, 'the sign-in request goes to the new phone');
    await newPhone.answer(signIn, 'approve', await numberOn(user));
    await user.waitForURL(`${portal.url}/`);
    await expectNoAxeViolations(user);

    // The pass is spent.
    await press(user, user.getByRole('button', { name: 'Sign out' }));
    await keyboardSignIn(user, portal.url, lost.email);
    await press(user, user.getByRole('link', { name: 'I lost my phone: use a Temporary Access Pass' }));
    await user.getByLabel('Temporary Access Pass').focus();
    await user.keyboard.type(pass);
    await enter(user);
    await user
      .getByText('The Temporary Access Pass is not correct, has been used or has expired')
      .first()
      .waitFor();
    await expectNoAxeViolations(user);
    expectEveryPageChecked(user);

    const types = (await portal.core.audit.list({ email: lost.email, limit: 100 })).map((e) => e.type);
    for (const type of [
      'temporary_pass.issued',
      'temporary_pass.used',
      'temporary_pass.refused',
      'authenticator.registered',
    ])
      assert.ok(types.includes(type as (typeof types)[number]), type);
  });
});
