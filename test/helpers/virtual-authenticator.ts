import type { Page } from 'playwright-core';
import { expectNoAxeViolations, expectPath } from './browser.ts';

/**
 * Chromium's virtual authenticator (CDP WebAuthn domain) on a page: a platform one (`internal`,
 * like Windows Hello or a phone's screen lock) or a security key (`usb`), resident keys and user
 * verification on.
 *
 * It answers a conditional request (the sign-in page's passkeys in the email field's suggestions)
 * at once, without any choice, when it is "present" as the request is made; absent, the request
 * waits, as for a user who does not pick a passkey there. Turning presence on later does not
 * answer a request already waiting (found by trying). `presence(false)` before the sign-in page
 * keeps it from signing in by itself.
 */
export async function virtualAuthenticator(page: Page, transport: 'internal' | 'usb' = 'internal') {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport,
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  const presence = (enabled: boolean) =>
    cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled });
  return { cdp, authenticatorId, presence };
}

/**
 * Security info > Add sign-in method > I want to set up a different method > Passkey, named
 * `name`, by the words on the screen, axe on every page; ends on the wizard's app password step.
 */
export async function addPasskeyFromSecurityInfo(page: Page, base: string, name: string) {
  await page.goto(`${base}/profile/security-info`);
  await expectNoAxeViolations(page);
  await page.getByRole('link', { name: 'Add sign-in method' }).click();
  await expectNoAxeViolations(page);
  await page.getByRole('link', { name: 'I want to set up a different method' }).click();
  await expectNoAxeViolations(page);
  await page.getByLabel('Choose a different method').selectOption({ label: 'Passkey' });
  await page.getByRole('button', { name: 'Confirm' }).click();
  expectPath(page, '/mfa/register/passkey');
  await expectNoAxeViolations(page);
  await page.getByLabel('Name your passkey').fill(name);
  await page.getByRole('button', { name: 'Create passkey' }).click();
  await page.waitForURL(`${base}/mfa/register/app-password`);
  await expectNoAxeViolations(page);
}
