import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { HttpBrowser } from '../helpers/http-browser.ts';
import { TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';

export const REDIRECT = 'http://127.0.0.1:9/mail/callback';
export const POST_LOGOUT = 'http://127.0.0.1:9/mail/';
const atRedirect = (url: string) => url.startsWith(REDIRECT);

/** What an application got back at its redirect URI: a code to exchange, or an error. */
export interface Answer {
  code: string | null;
  error: string | null;
  url: URL;
  verifier: string;
  state: string;
}

/**
 * A registered application ("Mail", confidential) talking to the portal with openid-client, and
 * browsers that go through the portal's pages over real HTTP.
 */
export async function relyingParty(portal: TestPortal) {
  const { application, clientSecret } = await portal.core.applications.add(
    {
      name: 'Mail',
      redirectUris: [REDIRECT],
      postLogoutRedirectUris: [POST_LOGOUT],
      confidential: true,
      requireMfa: false,
    },
    'test',
  );
  const config = await oidc.discovery(
    new URL(`${portal.url}/oidc`),
    application.clientId,
    clientSecret!,
    undefined,
    {
      execute: [oidc.allowInsecureRequests],
    },
  );

  async function authorizationUrl(extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...extra,
    });
    return { url: url.toString(), verifier, state };
  }

  /** The browser asks the portal for a code; returns where it stopped (a portal page or the application). */
  async function authorize(browser: HttpBrowser, extra: Record<string, string> = {}) {
    const { url, verifier, state } = await authorizationUrl(extra);
    const page = await browser.follow(url, atRedirect);
    const answer = (): Answer => {
      const at = new URL(page.url);
      return {
        code: at.searchParams.get('code'),
        error: at.searchParams.get('error'),
        url: at,
        verifier,
        state,
      };
    };
    return { page, atApplication: atRedirect(page.url), answer, verifier, state };
  }

  /** Types the password on the sign-in page the browser is at, and follows it back to the application. */
  async function typePassword(browser: HttpBrowser, page: { url: string; html: string }, email: string) {
    return browser.submit(page.url, page.html, '/signin', { email, password: TEST_PASSWORD }, atRedirect);
  }

  /** A fresh browser signed in at the portal through the application; the tokens it got. */
  async function signIn(email: string) {
    const browser = new HttpBrowser();
    const started = await authorize(browser);
    assert.match(started.page.url, /\/signin\?return=%2Finteraction%2F/);
    const landed = await typePassword(browser, started.page, email);
    assert.ok(atRedirect(landed.url), `back at the application: ${landed.url}`);
    const tokens = await exchange({
      ...started.answer(),
      url: new URL(landed.url),
    });
    return { browser, tokens };
  }

  function exchange(answer: Pick<Answer, 'url' | 'verifier' | 'state'>) {
    return oidc.authorizationCodeGrant(config, answer.url, {
      pkceCodeVerifier: answer.verifier,
      expectedState: answer.state,
    });
  }

  /**
   * prompt=none from a browser: the application's silent check. Returns the answer at the
   * redirect URI (the test asserts a code or an error).
   */
  async function silently(browser: HttpBrowser, extra: Record<string, string> = {}) {
    const started = await authorize(browser, { prompt: 'none', ...extra });
    assert.ok(started.atApplication, `prompt=none answers at the application: ${started.page.url}`);
    return started.answer();
  }

  return {
    config,
    clientId: application.clientId,
    clientSecret: clientSecret!,
    authorizationUrl,
    authorize,
    typePassword,
    signIn,
    exchange,
    silently,
  };
}

/** Submits the portal's Sign out button (POST /signout with the page's CSRF token). */
export async function signOutAtPortal(browser: HttpBrowser, portal: TestPortal) {
  const home = await browser.follow(`${portal.url}/`);
  assert.match(home.html, /action="\/signout"/, 'the portal page has the Sign out button');
  const after = await browser.submit(home.url, home.html, '/signout', {});
  assert.match(after.url, /\/signin$/);
}

/** True when the browser's portal session still opens the portal's own pages. */
export async function signedInAtPortal(browser: HttpBrowser, portal: TestPortal) {
  // Not the front page: signed out, it lists the single sign-on applications (guide 000).
  const response = await browser.request(`${portal.url}/profile`);
  return response.status === 200;
}
