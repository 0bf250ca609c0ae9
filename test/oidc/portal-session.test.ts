import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { ACR_MFA } from '../../src/oidc/acr.ts';
import { manualClock } from '../helpers/clock.ts';
import { type HttpBrowser, refreshTarget } from '../helpers/http-browser.ts';
import {
  addUser,
  insertCodeApp,
  startTestPortal,
  TEST_PASSWORD,
  type TestPortal,
} from '../helpers/portal.ts';
import { POST_LOGOUT, REDIRECT, relyingParty, signedInAtPortal, signOutAtPortal } from './relying-party.ts';

type RelyingParty = Awaited<ReturnType<typeof relyingParty>>;

/** prompt=none gives a code, and the code gives tokens: the application's silent sign-in works. */
async function silentSignInWorks(rp: RelyingParty, browser: HttpBrowser) {
  const answer = await rp.silently(browser);
  assert.ok(answer.code, `a code: ${answer.url}`);
  const tokens = await rp.exchange(answer);
  assert.ok(tokens.access_token);
  return tokens;
}

/** prompt=none gets login_required and no code. */
async function silentSignInRefused(rp: RelyingParty, browser: HttpBrowser) {
  const answer = await rp.silently(browser);
  assert.equal(answer.code, null, `no code: ${answer.url}`);
  assert.equal(answer.error, 'login_required');
}

/** How many times the account's portal sessions were ended by signing out. */
async function signOuts(portal: TestPortal, email: string) {
  return (await portal.core.audit.list({ email, limit: 50 })).filter((e) => e.type === 'signout').length;
}

/** What a browser does with the provider's self-submitting form (form_post): posts it, follows on. */
async function submitSelfPostingForm(browser: HttpBrowser, page: { url: string; html: string }) {
  const action = /<form method="post" action="([^"]+)">/.exec(page.html)?.[1];
  assert.ok(action, `a self-posting form at ${page.url}`);
  const fields = Object.fromEntries(
    [...page.html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [
      m[1]!,
      m[2]!,
    ]),
  );
  return browser.follow(new URL(action, page.url).toString(), (u) => u.startsWith(REDIRECT), {
    form: fields,
  });
}

/** Signs in at the portal itself (not through an application). */
async function signInAtPortal(browser: HttpBrowser, portal: TestPortal, email: string) {
  const page = await browser.follow(`${portal.url}/signin`);
  const home = await browser.submit(page.url, page.html, '/signin', { email, password: TEST_PASSWORD });
  assert.equal(home.response.status, 200, `signed in at the portal: ${home.url}`);
}

describe('single sign-on answers only from a live, complete portal session', () => {
  let portal: TestPortal;
  let rp: RelyingParty;

  before(async () => {
    portal = await startTestPortal({ listen: true, singleSignOn: true });
    rp = await relyingParty(portal);
  });
  after(() => portal.close());

  test('after Sign out at the portal: login_required, and a full request is sent to sign in', async () => {
    await addUser(portal.core, 'signout@example.org');
    const { browser } = await rp.signIn('signout@example.org');
    await silentSignInWorks(rp, browser);
    await signOutAtPortal(browser, portal);
    await silentSignInRefused(rp, browser);
    const again = await rp.authorize(browser);
    assert.match(again.page.url, /\/signin\?return=%2Finteraction%2F/, again.page.url);
  });

  test('after users reset-mfa (every session of the account ended): login_required', async () => {
    const account = await addUser(portal.core, 'reset@example.org');
    const { browser } = await rp.signIn('reset@example.org');
    await silentSignInWorks(rp, browser);
    await portal.core.methods.resetMfa(account, 'servicedesk@example.org');
    await silentSignInRefused(rp, browser);
  });

  test('while the portal session is at the MFA step (a step-up not finished): login_required', async () => {
    const account = await addUser(portal.core, 'midway@example.org');
    // MFA not enforced, a code app registered (data an older Gatehouse may have left).
    await insertCodeApp(portal.store, account.id);
    const { browser } = await rp.signIn('midway@example.org');
    await silentSignInWorks(rp, browser);
    const stepUp = await rp.authorize(browser, { acr_values: ACR_MFA });
    assert.match(stepUp.page.url, /\/mfa\/verify\/code$/, stepUp.page.url);
    await silentSignInRefused(rp, browser);
  });

  test('another account signed in at the portal: not the first account’s code', async () => {
    await addUser(portal.core, 'first@example.org');
    const second = await addUser(portal.core, 'second@example.org');
    const { browser, tokens } = await rp.signIn('first@example.org');
    await signOutAtPortal(browser, portal);
    await signInAtPortal(browser, portal, 'second@example.org');
    await silentSignInRefused(rp, browser);
    // A full request goes through the portal session (no password asked): the second account.
    // The provider first ends its own session of the first account, with a form a browser
    // submits by itself; that is not the user's Sign out, so the portal session stays.
    const full = await rp.authorize(browser);
    const switched = await submitSelfPostingForm(browser, full.page);
    assert.ok(switched.url.startsWith(REDIRECT), switched.url);
    assert.ok(await signedInAtPortal(browser, portal), 'the second account is still signed in');
    assert.equal(await signOuts(portal, 'second@example.org'), 0);
    const issued = await rp.exchange({ ...full.answer(), url: new URL(switched.url) });
    assert.equal(issued.claims()?.sub, second.id);
    assert.notEqual(issued.claims()?.sub, tokens.claims()?.sub);
  });

  describe('prompt=login and max_age=0 ask for the password again', () => {
    for (const extra of [{ prompt: 'login' }, { max_age: '0' }] as Record<string, string>[]) {
      const label = Object.entries(extra)[0]!.join('=');

      test(`${label}: the sign-in form although signed in; only a new sign-in gets the code`, async () => {
        const email = `again.${label.replace('=', '')}@example.org`;
        await addUser(portal.core, email);
        const { browser, tokens } = await rp.signIn(email);
        const startedAt = Math.floor(Date.now() / 1000);
        const asked = await rp.authorize(browser, extra);
        assert.match(asked.page.url, /\/signin\?return=%2Finteraction%2F[^&]+&reauth=1$/, asked.page.url);
        assert.match(asked.page.html, /name="password"/, 'the form is shown to a signed-in user');
        // Not typing it and going back to the interaction does not get past it.
        const interaction = decodeURIComponent(/return=([^&]+)/.exec(asked.page.url)![1]!);
        const skipped = await browser.follow(`${portal.url}${interaction}`, (u) => u.includes('/mail/'));
        assert.match(skipped.url, /reauth=1$/, skipped.url);

        const landed = await rp.typePassword(browser, asked.page, email);
        const answer = { ...asked.answer(), url: new URL(landed.url) };
        assert.ok(answer.url.searchParams.get('code'), landed.url);
        const issued = await rp.exchange(answer);
        assert.ok(Number(issued.claims()?.auth_time) >= startedAt, 'auth_time is the new sign-in');
        assert.ok(Number(issued.claims()?.auth_time) >= Number(tokens.claims()?.auth_time));
      });
    }
  });

  describe('RP-initiated logout', () => {
    async function signedInWithIdToken(email: string) {
      await addUser(portal.core, email);
      const { browser, tokens } = await rp.signIn(email);
      const logoutUrl = oidc.buildEndSessionUrl(rp.config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: POST_LOGOUT,
      });
      return { browser, logoutUrl: logoutUrl.toString() };
    }

    test('a GET of the logout page (a link, a prefetch) ends nothing', async () => {
      const { browser, logoutUrl } = await signedInWithIdToken('link@example.org');
      const first = await browser.follow(logoutUrl);
      assert.match(first.html, /form="op.logoutForm"/, 'the confirmation page');
      await browser.follow(logoutUrl);
      assert.ok(await signedInAtPortal(browser, portal), 'still signed in at the portal');
      assert.equal(await signOuts(portal, 'link@example.org'), 0);
      await silentSignInWorks(rp, browser);
    });

    test('confirming ends the portal session and clears its cookie in that response', async () => {
      const { browser, logoutUrl } = await signedInWithIdToken('confirm@example.org');
      const confirm = await browser.follow(logoutUrl);
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)![1]!;
      const action = new URL(/action="([^"]+)"/.exec(confirm.html)![1]!, portal.url).toString();
      assert.ok(await signedInAtPortal(browser, portal));
      const response = await browser.request(action, { form: { xsrf, logout: 'yes' } });
      // A page that moves on to the application (a redirect after the form would break on
      // form-action 'self' in a browser: see src/oidc/hand-off.ts).
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('location'), null);
      assert.equal(refreshTarget(await response.text()), POST_LOGOUT);
      const cleared = response.headers
        .getSetCookie()
        .filter((c) => /^gatehouse_session=;/.test(c) && /expires=Thu, 01 Jan 1970/i.test(c));
      assert.equal(cleared.length, 1, 'the portal cookie is cleared by the confirmation itself');
      assert.equal(
        await signOuts(portal, 'confirm@example.org'),
        1,
        'the portal session ended on the server',
      );
      assert.equal(await signedInAtPortal(browser, portal), false);
      await silentSignInRefused(rp, browser);
    });
  });
});

describe('single sign-on and the portal session’s clock', () => {
  const clock = manualClock(new Date().toISOString());
  let portal: TestPortal;
  let rp: RelyingParty;

  before(async () => {
    portal = await startTestPortal({ listen: true, singleSignOn: true, clock });
    rp = await relyingParty(portal);
  });
  after(() => portal.close());

  test('after the idle timeout (30 minutes without a request): login_required', async () => {
    await addUser(portal.core, 'idle@example.org');
    const { browser } = await rp.signIn('idle@example.org');
    clock.advanceMinutes(29);
    await silentSignInWorks(rp, browser);
    clock.advanceMinutes(31);
    await silentSignInRefused(rp, browser);
  });

  test('a later sign-in of the same account: prompt=none refused once, a full request then passes', async () => {
    await addUser(portal.core, 'later@example.org');
    const { browser, tokens } = await rp.signIn('later@example.org');
    await signOutAtPortal(browser, portal);
    clock.advanceMinutes(1);
    await signInAtPortal(browser, portal, 'later@example.org');
    // The provider's session belongs to the sign-in that was ended, not to this one.
    await silentSignInRefused(rp, browser);
    const full = await rp.authorize(browser);
    assert.ok(full.atApplication, `no password asked: ${full.page.url}`);
    const issued = await rp.exchange(full.answer());
    assert.ok(Number(issued.claims()?.auth_time) >= Number(tokens.claims()?.auth_time));
    await silentSignInWorks(rp, browser);
  });

  test('max_age older than the portal sign-in asks for the password; a younger one does not', async () => {
    await addUser(portal.core, 'maxage@example.org');
    const { browser } = await rp.signIn('maxage@example.org');
    clock.advanceMinutes(10);
    const young = await rp.authorize(browser, { max_age: '3600' });
    assert.ok(young.atApplication, `signed in 10 minutes ago, max_age an hour: ${young.page.url}`);
    assert.ok((await rp.exchange(young.answer())).access_token);

    const old = await rp.authorize(browser, { max_age: '300' });
    assert.match(old.page.url, /&reauth=1$/, `signed in 10 minutes ago, max_age 5: ${old.page.url}`);
    const silent = await rp.silently(browser, { max_age: '300' });
    assert.equal(silent.code, null);
    assert.equal(silent.error, 'login_required');

    const landed = await rp.typePassword(browser, old.page, 'maxage@example.org');
    const answer = { ...old.answer(), url: new URL(landed.url) };
    assert.ok(answer.url.searchParams.get('code'), landed.url);
    assert.ok((await rp.exchange(answer)).access_token);
  });
});
