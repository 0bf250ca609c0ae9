import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { TEST_PASSWORD } from './portal.ts';

/**
 * A real browser for the end-to-end tests: Debian's Chromium, driven by playwright-core (no browser
 * is downloaded). Every host but the loopback address resolves to nothing, so the pages cannot
 * reach the internet.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export function launchBrowser(
  options: {
    env?: Record<string, string>;
    /** `localhost` resolves to the loopback address too (WebAuthn refuses an IP address as RP ID). */
    localhost?: boolean;
  } = {},
): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // A HOME of the test's own gives Chromium its own NSS database (~/.pki/nssdb): client certificates.
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--host-resolver-rules=${options.localhost ? 'MAP localhost 127.0.0.1 , ' : ''}MAP * ~NOTFOUND , EXCLUDE 127.0.0.1`,
    ],
  });
}

/**
 * A fresh context (its own cookies) and page. CSP is bypassed only so that axe-core can be
 * injected as an inline script; the pages themselves carry no scripts.
 */
export async function openPage(
  browser: Browser,
  options: { javaScriptEnabled?: boolean; viewport?: { width: number; height: number } } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    bypassCSP: true,
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    locale: 'en-GB',
    viewport: options.viewport ?? { width: 1280, height: 800 },
    // A phone-sized window is a phone: touch, and the page laid out at the device's width.
    ...(options.viewport && options.viewport.width < 641 ? { isMobile: true, hasTouch: true } : {}),
  });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  const page = await context.newPage();
  trackVisits(page);
  return { context, page };
}

// ---------------------------------------------------------------------------------------------
// Accessibility

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** Pages (by path) each page object has loaded, and those axe has checked. */
const visited = new WeakMap<Page, Set<string>>();
const checked = new WeakMap<Page, Set<string>>();

function pathOf(url: string): string {
  const u = new URL(url);
  return u.pathname;
}

function trackVisits(page: Page): void {
  visited.set(page, new Set());
  checked.set(page, new Set());
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame() && frame.url().startsWith('http'))
      visited.get(page)?.add(pathOf(frame.url()));
  });
}

/**
 * Runs axe-core on the page as it is now (WCAG 2.0-2.2 A and AA, and best practice) and fails,
 * listing each violation's rule, help text and elements, if there is any.
 *
 * axe needs timers, which do not run in a page with JavaScript disabled. For such a page, the
 * document as it is now (menus open or closed alike) is loaded into a scratch JavaScript-enabled
 * context at the same address, so that its stylesheets come from the portal, and checked there.
 */
export async function expectNoAxeViolations(page: Page): Promise<void> {
  const url = page.url();
  let violations: AxeViolation[];
  if (await scriptsRun(page)) {
    violations = await runAxe(page);
  } else {
    const html = await page.content();
    const copy = await scratchPage(page);
    // Without the fragment, so that going there always loads the copy afresh.
    const address = url.split('#')[0] ?? url;
    pendingCopies.set(copy, { url: address, html });
    try {
      await copy.goto(address);
    } finally {
      pendingCopies.delete(copy);
    }
    violations = await runAxe(copy);
  }

  checked.get(page)?.add(pathOf(url));
  if (violations.length === 0) return;
  const report = violations
    .map(
      (v) =>
        `- ${v.id} (${v.impact ?? 'no impact'}): ${v.help}\n  ${v.helpUrl}\n` +
        v.nodes
          .map(
            (n) =>
              `    at ${JSON.stringify(n.target)}` +
              (n.failureSummary ? `\n      ${n.failureSummary.replace(/\n/g, '\n      ')}` : ''),
          )
          .join('\n'),
    )
    .join('\n');
  assert.fail(`axe found ${violations.length} accessibility violation(s) on ${url}:\n${report}`);
}

/** One scripted page per browser to check copies of pages that have JavaScript disabled. */
const scratchPages = new WeakMap<Browser, Promise<Page>>();
const pendingCopies = new WeakMap<Page, { url: string; html: string }>();

function scratchPage(of: Page): Promise<Page> {
  const browser = of.context().browser();
  assert.ok(browser, 'the page has no browser');
  let scratch = scratchPages.get(browser);
  if (!scratch) {
    scratch = (async () => {
      const context = await browser.newContext({
        bypassCSP: true,
        locale: 'en-GB',
        viewport: of.viewportSize(),
      });
      const copy = await context.newPage();
      // The copy's document is served from memory; its stylesheets and images come from the portal.
      await copy.route(
        (u) => pendingCopies.get(copy)?.url === u.href,
        (route) => {
          const pending = pendingCopies.get(copy);
          if (!pending || route.request().resourceType() !== 'document') return route.continue();
          return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: pending.html });
        },
      );
      return copy;
    })();
    scratchPages.set(browser, scratch);
  }
  return scratch;
}

/** Whether the page runs its scripts (false in a context made with javaScriptEnabled: false). */
export function scriptsRun(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const probe = document.createElement('script');
    probe.textContent = 'document.documentElement.dataset.ghScriptsRun = "yes"';
    document.head.append(probe);
    probe.remove();
    const ran = document.documentElement.dataset.ghScriptsRun === 'yes';
    delete document.documentElement.dataset.ghScriptsRun;
    return ran;
  });
}

async function runAxe(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(require.resolve('axe-core'), 'utf8');
  await page.addScriptTag({ content: axeSource });
  return page.evaluate(async (tags) => {
    const axe = (globalThis as unknown as { axe: { run: (...a: unknown[]) => Promise<unknown> } }).axe;
    const results = (await axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    })) as { violations: AxeViolation[] };
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  }, AXE_TAGS);
}

/** Fails if the page loaded any page (by path) that expectNoAxeViolations was not run on. */
export function expectEveryPageChecked(page: Page): void {
  const seen = visited.get(page) ?? new Set<string>();
  const done = checked.get(page) ?? new Set<string>();
  // The single sign-on hand-off (/interaction/...) moves on by itself at once (a meta refresh),
  // so a journey cannot stop on it to check it; test/e2e/single-sign-on.test.ts holds it (its
  // refresh taken out) and checks it there.
  const missed = [...seen].filter((p) => !done.has(p) && !p.startsWith('/interaction/'));
  assert.deepEqual(missed, [], `pages visited without an accessibility check: ${missed.join(', ')}`);
  assert.ok(seen.size > 0, 'the test visited no pages');
}

// ---------------------------------------------------------------------------------------------
// Steps of the user guide, by the words on the screen

/** Expects the path of the page now shown, with no query or fragment. */
export function expectPath(page: Page, path: string): void {
  assert.equal(pathOf(page.url()), path, `expected to be on ${path}, but the page is ${page.url()}`);
}

/** Opens the sign-in page, checks it, and signs in with the labels the guide uses. */
export async function signIn(page: Page, baseUrl: string, email: string, password = TEST_PASSWORD) {
  await page.goto(`${baseUrl}/signin`);
  await expectNoAxeViolations(page);
  await page.getByLabel('Email address', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForLoadState('load');
}

/**
 * Profile in the navigation, then My Profile from its menu (step 2 of the guide), by mouse or by
 * keyboard (Enter on Profile, Tab to My Profile, Enter), checking the page with the menu open too.
 */
export async function openMyProfile(page: Page, options: { keyboard?: boolean } = {}): Promise<void> {
  const nav = page.getByRole('navigation', { name: 'Main' });
  // A <summary> has no ARIA role of its own in Playwright's mapping; it is found by its words.
  const profile = nav.getByText('Profile', { exact: true });
  const menuLink = nav.getByRole('link', { name: 'My Profile', exact: true });
  assert.equal(await menuLink.isVisible(), false, 'the Profile menu should start closed');
  if (options.keyboard) {
    await profile.focus();
    await page.keyboard.press('Enter');
  } else {
    await profile.click();
  }
  await menuLink.waitFor({ state: 'visible' });
  // The open menu is part of the page too: check it while it is showing.
  await expectNoAxeViolations(page);
  if (options.keyboard) {
    await page.keyboard.press('Tab');
    assert.equal(
      await menuLink.evaluate((link) => link === document.activeElement),
      true,
      'Tab from Profile should move to My Profile',
    );
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === '/profile');
  } else {
    await menuLink.click();
  }
  await page.waitForLoadState('load');
  expectPath(page, '/profile');
  await page.getByRole('heading', { level: 1, name: 'My profile' }).waitFor();
  await expectNoAxeViolations(page);
}

/** From My profile: Self-Service (step 3 of the guide). */
export async function openSelfService(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Self-Service', exact: true }).click();
  await page.waitForLoadState('load');
  expectPath(page, '/profile/self-service');
  await page.getByRole('heading', { level: 1, name: 'Self-Service' }).waitFor();
  await expectNoAxeViolations(page);
}

/** The Sign out button in the navigation. */
export async function signOut(page: Page): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('button', { name: 'Sign out', exact: true })
    .click();
  await page.waitForLoadState('load');
  expectPath(page, '/signin');
  await expectNoAxeViolations(page);
}

/**
 * Part 1 of the guide, signed in on the home page: Profile → My Profile → Self-Service →
 * Self-enrol → Confirm, ending on the Self-Service page with the success message.
 */
export async function selfEnrolByTheGuide(
  page: Page,
  email: string,
  options: { keyboard?: boolean } = {},
): Promise<void> {
  await openMyProfile(page, options);
  await openSelfService(page);
  await page.getByRole('link', { name: 'Self-enrol', exact: true }).click();
  await page.waitForLoadState('load');
  expectPath(page, '/profile/self-service/mfa');
  await expectNoAxeViolations(page);
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await page.waitForLoadState('load');
  expectPath(page, '/profile/self-service');
  await page
    .getByRole('alert')
    .getByText(`success: MFA enabled successfully for ${email}`, { exact: true })
    .waitFor({ state: 'visible' });
  await expectNoAxeViolations(page);
}
