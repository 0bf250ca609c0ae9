import type { Browser, BrowserContext, Page } from 'playwright-core';

/**
 * A page as every user's browser has it: the Content Security Policy enforced (no bypassCSP, so
 * no axe injection either: the pages' accessibility is checked by the e2e journeys). Every CSP
 * violation the console reports is kept, for the test to assert there was none.
 */
export async function openStrictPage(
  browser: Browser,
): Promise<{ context: BrowserContext; page: Page; violations: string[] }> {
  const context = await browser.newContext({ locale: 'en-GB', viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  const violations: string[] = [];
  context.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  const page = await context.newPage();
  return { context, page, violations };
}
