import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { CLI_ACTOR } from '../../src/core/console/actor.ts';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import { ACR_MFA, ACR_PHISHING_RESISTANT } from '../../src/oidc/acr.ts';
import { HttpBrowser } from '../helpers/http-browser.ts';
import { csrfTokenIn } from '../helpers/inject-client.ts';
import {
  addUser,
  insertCodeApp,
  passkeysRequiring,
  signedInSession,
  startTestPortal,
  TEST_PASSWORD,
  type TestPortal,
} from '../helpers/portal.ts';
import { SoftAuthenticator } from '../helpers/soft-authenticator.ts';

const REDIRECT = 'http://127.0.0.1:9/theatre/callback';
const atRedirect = (url: string) => url.startsWith(REDIRECT);
const IP = '192.0.2.1';
const GROUP = 'Theatre staff';

/**
 * Applications, groups and the console that require a phishing-resistant sign-in (issue 15),
 * over real HTTP with a real relying party (openid-client): a code sign-in is stepped up to a
 * passkey, a code is refused at that step, an account without a passkey is told how to get one,
 * and the ID token states acr `phr`.
 */
describe('phishing-resistant sign-in for applications and the console', () => {
  let portal: TestPortal;
  let config: oidc.Configuration;
  let plainConfig: oidc.Configuration;
  let n = 0;

  before(async () => {
    portal = await startTestPortal({
      listen: true,
      singleSignOn: true,
      settings: {
        passkeys: passkeysRequiring([GROUP], true),
      },
    });
    const discover = async (name: string, requirePhishingResistant: boolean) => {
      const { application, clientSecret } = await portal.core.console.applications.add(CLI_ACTOR, {
        name,
        redirectUris: [REDIRECT],
        postLogoutRedirectUris: [],
        confidential: true,
        requireMfa: false,
        requirePhishingResistant,
      });
      return oidc.discovery(new URL(`${portal.url}/oidc`), application.clientId, clientSecret!, undefined, {
        execute: [oidc.allowInsecureRequests],
      });
    };
    config = await discover('Theatre list', true);
    plainConfig = await discover('Rota', false);
  });
  after(() => portal.close());

  /** An account with MFA on, a passkey and a code app (the passkey is not its default). */
  async function user(options: { passkey?: boolean; groups?: string[]; mfa?: boolean } = {}) {
    const email = `phr.sso${++n}@example.org`;
    await addUser(portal.core, email, { groups: options.groups ?? [] });
    const account = (await portal.core.accounts.find(email))!;
    const key = new SoftAuthenticator();
    if (options.mfa !== false) await portal.core.enrolment.enable(account, IP);
    if (options.passkey !== false) {
      const { active } = await signedInSession(portal.core, email);
      const creation = await portal.core.flow.startEnrolment(active, 'passkey', { origin: portal.url }, IP);
      await portal.core.flow.finishEnrolment(
        active,
        'passkey',
        { origin: portal.url, response: key.register(creation, portal.url), name: 'Blue key' },
        IP,
      );
    }
    const { secret } = await insertCodeApp(portal.store, account.id);
    return { email, key, secret };
  }

  async function startAt(
    with_: oidc.Configuration,
    browser: HttpBrowser,
    extra: Record<string, string> = {},
  ) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(with_, {
      redirect_uri: REDIRECT,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...extra,
    });
    const page = await browser.follow(url.toString(), atRedirect);
    const tokens = (landedUrl: string) =>
      oidc.authorizationCodeGrant(with_, new URL(landedUrl), {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
    return { page, tokens };
  }

  /** Password, then a code: the portal session is MFA but not phishing-resistant. */
  async function passwordAndCode(
    browser: HttpBrowser,
    page: { url: string; html: string },
    email: string,
    secret: string,
  ) {
    const atCode = await browser.submit(
      page.url,
      page.html,
      '/signin',
      { email, password: TEST_PASSWORD },
      atRedirect,
    );
    assert.match(atCode.url, /\/mfa\/verify\/code$/, atCode.url);
    return browser.submit(
      atCode.url,
      atCode.html,
      '/mfa/verify/code',
      { code: codeAt(secret, new Date()) },
      atRedirect,
    );
  }

  /** The passkey page's script, as a browser runs it: options, the authenticator's answer, the post. */
  async function usePasskey(
    browser: HttpBrowser,
    page: { url: string; html: string },
    key: SoftAuthenticator,
  ) {
    const asked = await browser.request(`${portal.url}/mfa/verify/passkey/options`, {
      form: { _csrf: csrfTokenIn(page.html) },
    });
    assert.equal(asked.status, 200);
    const options = await asked.json();
    return browser.submit(
      page.url,
      page.html,
      '/mfa/verify/passkey',
      { credential: JSON.stringify(key.assert(options, portal.url)) },
      atRedirect,
    );
  }

  test('an application that requires it: a code sign-in is stepped up to a passkey only, and the ID token says phr', async () => {
    const { email, key, secret } = await user();
    const browser = new HttpBrowser();
    const { page, tokens } = await startAt(config, browser);
    const stepped = await passwordAndCode(browser, page, email, secret);
    assert.match(stepped.url, /\/mfa\/verify\/passkey$/, `asked for a passkey: ${stepped.url}`);
    assert.match(stepped.html, /What you are signing in to needs a passkey or a smartcard/);
    assert.doesNotMatch(stepped.html, /Use a verification code/, 'no other method is offered');

    // A code typed anyway (a direct POST) is refused in words; nothing moves on.
    const code = await browser.request(`${portal.url}/mfa/verify/code`, {
      form: { _csrf: csrfTokenIn(stepped.html), code: codeAt(secret, new Date(Date.now() + 30_000)) },
    });
    assert.equal(code.status, 403);
    assert.match(await code.text(), /passkey or a smartcard/);

    const landed = await usePasskey(browser, stepped, key);
    assert.ok(atRedirect(landed.url), `back at the application: ${landed.url}`);
    const claims = (await tokens(landed.url)).claims()!;
    assert.equal(claims.acr, ACR_PHISHING_RESISTANT);
    assert.deepEqual([...(claims.amr as string[])].sort(), ['hwk', 'mfa', 'pwd', 'user']);
    const [signedIn] = (await portal.core.audit.list({ email, limit: 50 })).filter(
      (e) => e.type === 'sso.signed_in',
    );
    assert.equal(signedIn?.detail.acr, ACR_PHISHING_RESISTANT);
  });

  test('prompt=none from a code session is login_required where phr is required or asked for; after a passkey it is not', async () => {
    const { email, key, secret } = await user();
    const browser = new HttpBrowser();
    // Signed in to an application that does not require it, with a code.
    const plain = await startAt(plainConfig, browser);
    const back = await passwordAndCode(browser, plain.page, email, secret);
    assert.ok(atRedirect(back.url), back.url);
    assert.equal((await plain.tokens(back.url)).claims()!.acr, ACR_MFA);

    // The provider's session is the portal's (same sign-in, same factors): only the requirement
    // of the application asks for a new sign-in.
    const silent = await startAt(config, browser, { prompt: 'none' });
    assert.ok(atRedirect(silent.page.url), silent.page.url);
    assert.equal(new URL(silent.page.url).searchParams.get('error'), 'login_required');
    const silentPlain = await startAt(plainConfig, browser, { prompt: 'none' });
    assert.equal(new URL(silentPlain.page.url).searchParams.get('error'), null, 'Rota is still fine');

    // phr preferred, MFA also acceptable: MFA satisfies it, and is what the token states.
    const either = `${ACR_PHISHING_RESISTANT} ${ACR_MFA}`;
    const preferred = await startAt(plainConfig, browser, { prompt: 'none', acr_values: either });
    assert.ok(atRedirect(preferred.page.url), preferred.page.url);
    assert.equal((await preferred.tokens(preferred.page.url)).claims()!.acr, ACR_MFA);

    // acr_values=phr alone, from the application without the requirement, demands it.
    const asked = await startAt(plainConfig, browser, { acr_values: ACR_PHISHING_RESISTANT });
    assert.match(asked.page.url, /\/mfa\/verify\/passkey$/, asked.page.url);
    const landed = await usePasskey(browser, asked.page, key);
    assert.equal((await asked.tokens(landed.url)).claims()!.acr, ACR_PHISHING_RESISTANT);

    // Now the login prompt is satisfied for the application that requires it (it has not been
    // consented to yet, which is the next prompt), and a silent request for phr gets a code.
    const theatre = await startAt(config, browser, { prompt: 'none' });
    assert.equal(new URL(theatre.page.url).searchParams.get('error'), 'consent_required');
    const again = await startAt(plainConfig, browser, { prompt: 'none', acr_values: ACR_PHISHING_RESISTANT });
    assert.ok(atRedirect(again.page.url), again.page.url);
    assert.equal(new URL(again.page.url).searchParams.get('error'), null);
    assert.equal((await again.tokens(again.page.url)).claims()!.acr, ACR_PHISHING_RESISTANT);
    const stated = await startAt(plainConfig, browser, { prompt: 'none', acr_values: either });
    assert.equal((await stated.tokens(stated.page.url)).claims()!.acr, ACR_PHISHING_RESISTANT);
  });

  test('an account without a passkey is told how to get one, and the application gets access_denied', async () => {
    const { email, secret } = await user({ passkey: false });
    const browser = new HttpBrowser();
    const { page } = await startAt(config, browser);
    const refused = await passwordAndCode(browser, page, email, secret);
    assert.match(refused.html, /Theatre list needs a passkey or a smartcard/);
    assert.match(refused.html, /Security info, then Add sign-in method/);
    const onward = /<a class="nhsuk-button" href="([^"]+)"/.exec(refused.html)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(onward, 'a link back to the application');
    const answered = await browser.follow(new URL(onward, refused.url).toString(), atRedirect);
    assert.equal(new URL(answered.url).searchParams.get('error'), 'access_denied');
    assert.equal(new URL(answered.url).searchParams.get('code'), null);
    const [event] = (await portal.core.audit.list({ email, limit: 50 })).filter(
      (e) => e.type === 'sso.refused',
    );
    assert.equal(event?.detail.reason, 'phishing_resistant_required_but_not_set_up');
  });

  test('a member of a group that requires it, signed in with a password only, reaches no application', async () => {
    // MFA not yet on: the portal lets the password in (to Self-Service), applications do not.
    const { email } = await user({ passkey: false, groups: [GROUP], mfa: false });
    const browser = new HttpBrowser();
    const { page } = await startAt(plainConfig, browser);
    const landed = await browser.submit(
      page.url,
      page.html,
      '/signin',
      { email, password: TEST_PASSWORD },
      atRedirect,
    );
    assert.match(landed.html, /Rota needs a passkey or a smartcard/);
    assert.equal(atRedirect(landed.url), false);
  });

  test('the console, configured to require it: a code session steps up to a passkey; without one, a page says how', async () => {
    const withKey = await user();
    await portal.core.console.grant(CLI_ACTOR, withKey.email, 'operator');
    const browser = new HttpBrowser();
    const signIn = await browser.follow(`${portal.url}/signin`);
    await passwordAndCode(browser, signIn, withKey.email, withKey.secret);
    const stepped = await browser.follow(`${portal.url}/admin`);
    assert.match(stepped.url, /\/mfa\/verify\/passkey$/, stepped.url);
    assert.match(stepped.html, /needs a passkey or a smartcard/);
    const back = await usePasskey(browser, stepped, withKey.key);
    assert.match(back.url, /\/admin(\/accounts)?$/, back.url);
    assert.equal(back.response.status, 200);

    const without = await user({ passkey: false });
    await portal.core.console.grant(CLI_ACTOR, without.email, 'operator');
    const other = new HttpBrowser();
    const start = await other.follow(`${portal.url}/signin`);
    await passwordAndCode(other, start, without.email, without.secret);
    const refused = await other.follow(`${portal.url}/admin`);
    assert.equal(refused.response.status, 403);
    assert.match(refused.html, /The console needs a passkey or a smartcard/);
  });
});
