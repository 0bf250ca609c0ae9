import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { systemClock } from '../../src/core/clock.ts';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import { ACR_MFA, ACR_PASSWORD } from '../../src/oidc/acr.ts';
import { HttpBrowser } from '../helpers/http-browser.ts';
import {
  addUser,
  insertCodeApp,
  startTestPortal,
  TEST_PASSWORD,
  type TestPortal,
} from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';

const REDIRECT = 'http://127.0.0.1:9/mail/callback';
const atRedirect = (url: string) => url.startsWith(REDIRECT);

describe('single sign-on with a real relying party (openid-client)', () => {
  let portal: TestPortal;
  let config: oidc.Configuration;
  let clientId = '';
  let secret = '';

  before(async () => {
    portal = await startTestPortal({ listen: true, singleSignOn: true });
    const { application, clientSecret } = await portal.core.applications.add(
      {
        name: 'Mail',
        redirectUris: [REDIRECT],
        postLogoutRedirectUris: ['http://127.0.0.1:9/mail/'],
        confidential: true,
        requireMfa: false,
      },
      'test',
    );
    clientId = application.clientId;
    secret = clientSecret!;
    config = await oidc.discovery(new URL(`${portal.url}/oidc`), clientId, clientSecret!, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
  });
  after(() => portal.close());

  /** Starts a sign-in at the application; returns the browser at the portal's sign-in page. */
  async function startAtApplication(extra: Record<string, string> = {}) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid email profile offline_access',
      prompt: 'consent',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...extra,
    });
    const browser = new HttpBrowser();
    const page = await browser.follow(url.toString(), atRedirect);
    return { browser, page, verifier, state };
  }

  async function signInWithPassword(email: string) {
    const { browser, page, verifier, state } = await startAtApplication();
    assert.match(page.url, /\/signin\?return=%2Finteraction%2F/);
    const landed = await browser.submit(
      page.url,
      page.html,
      '/signin',
      { email, password: TEST_PASSWORD },
      atRedirect,
    );
    assert.ok(atRedirect(landed.url), `back at the application: ${landed.url}`);
    return oidc.authorizationCodeGrant(config, new URL(landed.url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
  }

  test('code flow with PKCE: token, ID token claims, userinfo and refresh', async () => {
    await addUser(portal.core, 'sso@example.org', { displayName: 'Sam Sso' });
    const tokens = await signInWithPassword('sso@example.org');
    const claims = tokens.claims()!;
    assert.equal(claims.acr, ACR_PASSWORD);
    assert.deepEqual(claims.amr, ['pwd']);
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.equal(userinfo.email, 'sso@example.org');
    assert.equal(userinfo.name, 'Sam Sso');
    assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    assert.ok(refreshed.access_token);
    const types = (await portal.core.audit.list({ email: 'sso@example.org', limit: 5 })).map((e) => e.type);
    assert.ok(types.includes('sso.signed_in'));
  });

  test('with MFA: the push number, then back at the application with amr mfa', async () => {
    const flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
    const { email, phone } = await flows.registered();
    const { browser, page, verifier, state } = await startAtApplication({ acr_values: ACR_MFA });
    const verify = await browser.submit(
      page.url,
      page.html,
      '/signin',
      { email, password: TEST_PASSWORD },
      atRedirect,
    );
    assert.match(verify.url, /\/mfa\/verify$/);
    const number = /id="matching-number">(\d\d)</.exec(verify.html)?.[1];
    const listed = (await phone.requests()).json() as { requests: { id: string; application: string }[] };
    assert.equal(listed.requests[0]?.application, 'Mail', 'the app shows the application name');
    await phone.answer(listed.requests[0]!.id, 'approve', number!);
    const landed = await browser.follow(`${portal.url}/mfa/verify`, atRedirect);
    assert.ok(atRedirect(landed.url), landed.url);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    assert.equal(tokens.claims()!.acr, ACR_MFA);
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'mfa', 'swk']);
  });

  /** A signed-in browser at the application's redirect URI, with what the code exchange needs. */
  async function codeAtRedirect(email: string) {
    const { browser, page, verifier, state } = await startAtApplication();
    const landed = await browser.submit(
      page.url,
      page.html,
      '/signin',
      { email, password: TEST_PASSWORD },
      atRedirect,
    );
    assert.ok(atRedirect(landed.url));
    return { browser, url: new URL(landed.url), verifier, state };
  }

  test('refuses a redirect URI that differs by one character', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${REDIRECT}x`,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const response = await new HttpBrowser().request(url.toString());
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('location'), null, 'never redirected to the unregistered URI');
    assert.match(await response.text(), /redirect_uri did not match/);
  });

  test('an authorization code works once', async () => {
    await addUser(portal.core, 'once@example.org');
    const { url, verifier, state } = await codeAtRedirect('once@example.org');
    await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state });
    await assert.rejects(
      oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state }),
      (e: { error?: string }) => e.error === 'invalid_grant',
    );
  });

  test('refuses a request without PKCE, and a code exchanged with the wrong verifier', async () => {
    const noPkce = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      state: 's1',
    });
    const refused = await new HttpBrowser().follow(noPkce.toString(), atRedirect);
    assert.ok(atRedirect(refused.url));
    assert.equal(new URL(refused.url).searchParams.get('error'), 'invalid_request');
    assert.match(new URL(refused.url).searchParams.get('error_description') ?? '', /PKCE/);

    await addUser(portal.core, 'pkce@example.org');
    const { url, state } = await codeAtRedirect('pkce@example.org');
    await assert.rejects(
      oidc.authorizationCodeGrant(config, url, {
        pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
        expectedState: state,
      }),
      (e: { error?: string }) => e.error === 'invalid_grant',
    );
  });

  test("refuses a code redeemed by another application's credentials", async () => {
    const other = await portal.core.applications.add(
      {
        name: 'Other',
        redirectUris: [REDIRECT],
        postLogoutRedirectUris: [],
        confidential: true,
        requireMfa: false,
      },
      'test',
    );
    const otherConfig = await oidc.discovery(
      new URL(`${portal.url}/oidc`),
      other.application.clientId,
      other.clientSecret!,
      undefined,
      { execute: [oidc.allowInsecureRequests] },
    );
    await addUser(portal.core, 'steal@example.org');
    const { url, verifier, state } = await codeAtRedirect('steal@example.org');
    await assert.rejects(
      oidc.authorizationCodeGrant(otherConfig, url, { pkceCodeVerifier: verifier, expectedState: state }),
      (e: { error?: string }) => e.error === 'invalid_grant',
    );
  });

  test('acr_values demanding MFA is refused for an account that cannot do MFA: no token', async () => {
    await addUser(portal.core, 'nomfa@example.org');
    const { browser, page } = await startAtApplication({ acr_values: ACR_MFA });
    const landed = await browser.submit(
      page.url,
      page.html,
      '/signin',
      { email: 'nomfa@example.org', password: TEST_PASSWORD },
      atRedirect,
    );
    // The portal says why first; its link then tells the application.
    assert.match(landed.html, /needs multi-factor authentication/);
    const onward = /<a class="nhsuk-button" href="([^"]+)"/.exec(landed.html)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(onward, 'a link back to the application');
    const answered = await browser.follow(new URL(onward, landed.url).toString(), atRedirect);
    assert.ok(atRedirect(answered.url), answered.url);
    const answer = new URL(answered.url).searchParams;
    assert.equal(answer.get('code'), null);
    assert.equal(answer.get('error'), 'access_denied');
    const [event] = await portal.core.audit.list({ email: 'nomfa@example.org', limit: 1 });
    assert.equal(event?.type, 'sso.refused');
  });

  test('a password-only portal session is stepped up to MFA, not passed through, when MFA is demanded', async () => {
    // An account without MFA enforced, but with a verification-code app registered (before
    // methods needed MFA on: data an older Gatehouse may have left): its portal session proves
    // the password only.
    const account = await addUser(portal.core, 'stepup@example.org');
    const setup = await insertCodeApp(portal.store, account.id);
    const first = await codeAtRedirect('stepup@example.org');
    const plain = await oidc.authorizationCodeGrant(config, first.url, {
      pkceCodeVerifier: first.verifier,
      expectedState: first.state,
    });
    assert.equal(plain.claims()!.acr, ACR_PASSWORD);

    // The same browser, now for a request demanding MFA: asked for a second factor first.
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      acr_values: ACR_MFA,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const stepUp = await first.browser.follow(url.toString(), atRedirect);
    assert.match(stepUp.url, /\/mfa\/verify\/code$/, `asked for a code: ${stepUp.url}`);
    const landed = await first.browser.submit(
      stepUp.url,
      stepUp.html,
      '/mfa/verify/code',
      { code: codeAt(setup.secret, new Date()) },
      atRedirect,
    );
    assert.ok(atRedirect(landed.url), landed.url);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    assert.equal(tokens.claims()!.acr, ACR_MFA);
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'mfa', 'otp']);
  });

  test('RP-initiated logout ends the application session and, once confirmed, the portal session', async () => {
    await addUser(portal.core, 'bye@example.org');
    const { browser, url, verifier, state } = await codeAtRedirect('bye@example.org');
    const tokens = await oidc.authorizationCodeGrant(config, url, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    const logoutUrl = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'http://127.0.0.1:9/mail/',
    });
    const confirm = await browser.follow(logoutUrl.toString());
    assert.match(confirm.html, /<h1 class="nhsuk-heading-l">Sign out<\/h1>/);
    assert.equal((await browser.request(`${portal.url}/`)).status, 200, 'signed in until confirmed');
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(confirm.html)![1]!;
    const action = /action="([^"]+)"/.exec(confirm.html)![1]!;
    const done = await browser.follow(
      new URL(action, portal.url).toString(),
      (u) => u.startsWith('http://127.0.0.1:9/mail/'),
      {
        form: { xsrf, logout: 'yes' },
      },
    );
    assert.equal(done.url, 'http://127.0.0.1:9/mail/');
    // Signed out of the portal too: its pages send to the sign-in page, and the front page is the
    // signed-out one that lists the applications.
    const profile = await browser.request(`${portal.url}/profile`);
    assert.equal(profile.headers.get('location'), '/signin');
    const front = await browser.request(`${portal.url}/`);
    assert.equal(front.status, 200);
    assert.match(await front.text(), /Your applications[\s\S]*sign in to the portal/);
  });

  test('keys rotate: the new key is published and signs new ID tokens; the old one stays published', async () => {
    const before = (await (await fetch(`${portal.url}/oidc/jwks`)).json()) as { keys: { kid: string }[] };
    const kid = await portal.core.signingKeys.rotate();
    let published: { keys: { kid: string }[] } = before;
    for (let i = 0; i < 50 && !published.keys.some((k) => k.kid === kid); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      published = (await (await fetch(`${portal.url}/oidc/jwks`)).json()) as { keys: { kid: string }[] };
    }
    assert.ok(
      published.keys.some((k) => k.kid === kid),
      'the new key is in the JWKS',
    );
    assert.ok(
      published.keys.some((k) => k.kid === before.keys[0]!.kid),
      'the previous key is still published',
    );
    await addUser(portal.core, 'rotate@example.org');
    const { url, verifier, state } = await codeAtRedirect('rotate@example.org');
    const rotatedConfig = await oidc.discovery(new URL(`${portal.url}/oidc`), clientId, secret, undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const tokens = await oidc.authorizationCodeGrant(rotatedConfig, url, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    const header = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString()) as {
      kid: string;
    };
    assert.equal(header.kid, kid);
  });
});
