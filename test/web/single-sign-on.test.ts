import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { systemClock } from '../../src/core/clock.ts';
import { ACR_MFA, ACR_PASSWORD } from '../../src/oidc/acr.ts';
import { HttpBrowser } from '../helpers/http-browser.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';

const REDIRECT = 'http://127.0.0.1:9/mail/callback';
const atRedirect = (url: string) => url.startsWith(REDIRECT);

describe('single sign-on with a real relying party (openid-client)', () => {
  let portal: TestPortal;
  let config: oidc.Configuration;
  let clientId = '';

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
});
