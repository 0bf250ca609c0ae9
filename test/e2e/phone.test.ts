import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  expectEveryPageChecked,
  expectNoAxeViolations,
  expectPath,
  launchBrowser,
  openPage,
  signIn,
} from '../helpers/browser.ts';
import { addUser, startTestPortal, type TestPortal } from '../helpers/portal.ts';

/**
 * The guide 002, "A different method: Phone", click by click in Chromium, with the development
 * phone standing in for the telephone network (a second page of the same browser).
 */
describe('registering a phone, following the guide', () => {
  let portal: TestPortal;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let counter = 0;

  before(async () => {
    [portal, browser] = await Promise.all([
      startTestPortal({ listen: true, developmentPhone: true }),
      launchBrowser(),
    ]);
  });
  after(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await portal?.close();
  });

  /** A user with MFA enabled, signed in, at `I want to set up a different method` > Phone. */
  async function atPhoneForm(): Promise<{ pc: Page; phone: Page; email: string }> {
    const email = `phone.user${++counter}@example.org`;
    const account = await addUser(portal.core, email);
    await portal.core.enrolment.enable(account, '127.0.0.1');
    const { context, page: pc } = await openPage(browser);
    contexts.push(context);
    const phone = await context.newPage();
    await signIn(pc, portal.url, email);
    expectPath(pc, '/mfa/register');
    await expectNoAxeViolations(pc);
    // Step 1: "Select at the bottom of the box 'I want to set up a different method'", on the
    // first page after sign-in.
    await pc.getByRole('link', { name: 'I want to set up a different method' }).click();
    await expectNoAxeViolations(pc);
    // Steps 2-4: the drop-down list, `Phone`, `Confirm`.
    const methods = pc.getByLabel('Choose a different method');
    assert.ok(
      !(await methods.locator('option').allTextContents()).includes('Office phone'),
      'office phone not offered',
    );
    assert.equal(await methods.inputValue(), '', 'no method chosen before the user chooses');
    await methods.selectOption({ label: 'Phone' });
    await pc.getByRole('button', { name: 'Confirm' }).click();
    expectPath(pc, '/mfa/register/phone');
    await expectNoAxeViolations(pc);
    return { pc, phone, email };
  }

  async function enterNumber(pc: Page, number: string, channel: 'Call me' | 'Text me a code' = 'Call me') {
    await pc.getByLabel('Country code').selectOption({ label: 'United Kingdom (+44)' });
    await pc.getByLabel('Phone number').fill(number);
    await pc.getByLabel(channel).check();
    await pc.getByRole('button', { name: 'Next' }).click();
    await expectNoAxeViolations(pc);
  }

  /** The development phone: the call rings there; press the keys. */
  async function answerAndPress(phone: Page, keys: string) {
    await phone.goto(`${portal.url}/dev/phone`);
    await expectNoAxeViolations(phone);
    for (const key of keys) {
      await phone.getByRole('button', { name: key, exact: true }).first().click();
      await phone.waitForLoadState('load');
    }
  }

  test('Phone > Call me > press # > Next > app password > Done: registered, back at the portal', async () => {
    const { pc, phone } = await atPhoneForm();
    await enterNumber(pc, '07400 700111');
    await assert.doesNotReject(pc.getByRole('heading', { name: "We're calling +44 7400 700111" }).waitFor());
    await answerAndPress(phone, '#');
    // The PC page moves on by itself (it polls): "Call answered".
    await pc.getByRole('heading', { name: 'Call answered' }).waitFor({ timeout: 10_000 });
    await expectNoAxeViolations(pc);
    await pc.getByRole('button', { name: 'Next' }).click();
    await expectNoAxeViolations(pc);
    // Steps 9-11: the app password name, the key password, Done, Congratulations, Done.
    await pc.getByLabel('Insert a password name of at least 8 characters').fill('Mail on my laptop');
    await pc.getByRole('button', { name: 'Next' }).click();
    await expectNoAxeViolations(pc);
    assert.match(await pc.locator('#key-password').innerText(), /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
    await pc.getByRole('link', { name: 'Done' }).click();
    await pc.getByRole('heading', { name: 'Congratulations, you have successfully set up MFA!' }).waitFor();
    await expectNoAxeViolations(pc);
    await pc.getByRole('link', { name: 'Done' }).click();
    expectPath(pc, '/');
    await expectNoAxeViolations(pc);
    expectEveryPageChecked(pc);
  });

  test('a landline, a foreign number and a Jersey mobile are refused with an explanation', async () => {
    const { pc } = await atPhoneForm();
    await enterNumber(pc, '020 7946 0018');
    await pc
      .getByText('Enter a mobile phone number. Landline, premium-rate and other numbers cannot be used')
      .first()
      .waitFor();
    await enterNumber(pc, '+33 6 12 34 56 78');
    await pc
      .getByText(
        'This number is from France. Only mobile numbers from the countries listed can be used. Enter a mobile number from one of them, or choose a different method',
      )
      .first()
      .waitFor();
    // A Jersey mobile shares +44 with the United Kingdom: the message says whose it is, and what to do.
    await enterNumber(pc, '07797 123456');
    await pc
      .getByText(
        'This is a mobile number from Jersey. Only mobile numbers from the countries listed can be used',
      )
      .first()
      .waitFor();
    expectPath(pc, '/mfa/register/phone');
    expectEveryPageChecked(pc);
  });

  test('a wrong key, then no answer: clear messages and Try again; then a text message code works', async () => {
    const { pc, phone } = await atPhoneForm();
    await enterNumber(pc, '07400 700222');
    await answerAndPress(phone, '5#');
    await pc.getByRole('heading', { name: 'The wrong key was pressed' }).waitFor({ timeout: 10_000 });
    await expectNoAxeViolations(pc);
    await pc.getByRole('button', { name: 'Try again' }).click();
    await phone.goto(`${portal.url}/dev/phone`);
    await phone.getByRole('button', { name: 'Let it ring out' }).click();
    await pc.getByRole('heading', { name: 'The call was not answered' }).waitFor({ timeout: 10_000 });
    await expectNoAxeViolations(pc);
    await pc.getByRole('button', { name: 'Text me a code instead' }).click();
    expectPath(pc, '/mfa/register/phone/code');
    await expectNoAxeViolations(pc);
    await phone.goto(`${portal.url}/dev/phone`);
    await expectNoAxeViolations(phone);
    const text = await phone.locator('.gh-text-message').first().innerText();
    const code = /^(\d{6}) is your/.exec(text)?.[1];
    assert.ok(code, text);
    await pc.getByLabel('Code from the text message').fill(code);
    await pc.getByRole('button', { name: 'Verify' }).click();
    expectPath(pc, '/mfa/register/app-password');
    await expectNoAxeViolations(pc);
    expectEveryPageChecked(pc);
  });
});
