import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import type { CertificateTrust } from '../../src/core/methods/smartcard/trust.ts';
import { ACR_MFA } from '../../src/oidc/acr.ts';
import { curl, nextLink } from '../helpers/curl.ts';
import { HttpBrowser } from '../helpers/http-browser.ts';
import { type IssuedCertificate, opensslDate, pemToDer, pkiFolder, type TestCa } from '../helpers/pki.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { type CardWorld, cardPortal, cardWorld } from '../helpers/smartcard.ts';

const pki = pkiFolder();
let ca: TestCa;
let serverCa: TestCa;
let world: CardWorld;
const cards: Record<string, IssuedCertificate> = {};
let trust: CertificateTrust;
let portal: TestPortal;

before(async () => {
  world = cardWorld(pki);
  ({ ca, serverCa, trust } = world);
  cards.alice = ca.issue('alice', { commonName: 'Alice Smartcard', email: 'alice@example.org' });
  cards.bob = ca.issue('bob', { commonName: 'Bob Smartcard', upn: 'bob@example.org' });
  cards.unnamed = ca.issue('unnamed', { commonName: 'Dana Smartcard' });
  cards.shared = ca.issue('shared', { email: 'team-inbox@example.org' });
  cards.stranger = ca.issue('stranger', { email: 'nobody@example.org' });
  cards.expired = ca.issue('expired', {
    email: 'alice@example.org',
    startDate: opensslDate(-60),
    endDate: opensslDate(-1),
  });
  cards.future = ca.issue('future', {
    email: 'alice@example.org',
    startDate: opensslDate(3),
    endDate: opensslDate(30),
  });
  cards.serverOnly = ca.issue('server-only', { email: 'alice@example.org', usage: 'serverAuth' });
  cards.revoked = ca.issue('revoked', { email: 'alice@example.org' });
  cards.big = ca.issue('big', { email: 'alice@example.org', padKilobytes: 20 });
  ca.revoke(cards.revoked);
  cards.otherCa = pki.ca('Some Other CA').issue('other', { email: 'alice@example.org' });
  trust.setRevocationLists([ca.crl().der]);
  portal = await cardPortal(world);
  await addUser(portal.core, 'alice@example.org', { displayName: 'Alice Example' });
  await addUser(portal.core, 'bob@example.org', { displayName: 'Bob Example' });
  await addUser(portal.core, 'dana@example.org', { displayName: 'Dana Example' });
  await addUser(portal.core, 'team-inbox@example.org', { sharedMailbox: true });
});
after(async () => {
  await portal.close();
  pki.remove();
});

/** `Log in with my Care identity` from the portal, with curl presenting `card` at the endpoint. */
async function atEndpoint(
  browser: HttpBrowser,
  card: IssuedCertificate | undefined,
  start = '/signin/smartcard',
) {
  const started = await browser.request(`${portal.url}${start}`);
  assert.equal(started.status, 303);
  const location = started.headers.get('location') ?? '';
  assert.ok(location.startsWith(portal.certificateEndpointUrl), location);
  return curl(location, { caFile: serverCa.certFile, ...(card ? { cert: card } : {}) });
}

async function cardSignIn(card: IssuedCertificate) {
  const browser = new HttpBrowser();
  const page = await atEndpoint(browser, card);
  assert.equal(page.status, 200, page.body);
  const next = nextLink(page.body);
  const done = await browser.follow(next);
  return { browser, page, next, done };
}

const latestAudit = async (type: string) =>
  (await portal.core.audit.list({ limit: 50 })).find((event) => event.type === type);

describe('Log in with my Care identity (curl presenting each certificate)', () => {
  test('the sign-in page offers it, and a good card signs straight in: two factors, audited', async () => {
    const signInPage = await (await fetch(`${portal.url}/signin`)).text();
    assert.match(signInPage, /href="\/signin\/smartcard">Log in with my Care identity<\/a>/);
    const { page, done } = await cardSignIn(cards.alice as IssuedCertificate);
    assert.match(page.body, /Alice Smartcard/);
    assert.match(page.body, /alice@example\.org/);
    assert.equal(done.response.status, 200);
    assert.equal(new URL(done.url).pathname, '/');
    assert.match(done.html, /Alice Example/);
    const session = await portal.store.audit.list({ email: 'alice@example.org', limit: 5 });
    const signedIn = session.find((e) => e.type === 'smartcard.signed_in');
    assert.deepEqual(signedIn?.detail.factors, ['sc', 'hwk', 'mfa']);
    assert.match(String(signedIn?.detail.twoFactors), /smartcard and knowledge of its PIN/);
  });

  test('a card naming the account by UPN maps too', async () => {
    const { done } = await cardSignIn(cards.bob as IssuedCertificate);
    assert.match(done.html, /Bob Example/);
  });

  const refusals: [string, string, number, RegExp][] = [
    ['expired', 'certificate_expired', 403, /has expired/],
    ['future', 'certificate_not_yet_valid', 403, /not valid yet/],
    ['revoked', 'certificate_revoked', 403, /has been cancelled/],
    ['otherCa', 'certificate_untrusted', 403, /not issued by an organisation this service trusts/],
    ['serverOnly', 'certificate_wrong_usage', 403, /cannot be used to sign in/],
    ['big', 'certificate_invalid', 403, /could not be read/],
    ['stranger', 'certificate_not_mapped', 403, /not linked to an account here/],
    ['shared', 'certificate_not_mapped', 403, /not linked to an account here/],
  ];
  for (const [name, code, status, message] of refusals) {
    test(`${name}: refused with a clear message and audited (${code})`, async () => {
      const page = await atEndpoint(new HttpBrowser(), cards[name]);
      assert.equal(page.status, status);
      assert.match(page.body, message);
      assert.match(page.body, /Try again/);
      assert.doesNotMatch(page.body, /ticket=/);
      const refused = await latestAudit('smartcard.refused');
      assert.ok(refused, 'refusal audited');
      assert.match(JSON.stringify(refused.detail), name === 'big' ? /too_large/ : /serial/);
    });
  }

  test('no certificate: asked to put the card in the reader', async () => {
    const page = await atEndpoint(new HttpBrowser(), undefined);
    assert.equal(page.status, 401);
    assert.match(page.body, /No smartcard was found/);
  });

  test('the ticket works once, only in the browser that started, and not for another purpose', async () => {
    const { next } = await cardSignIn(cards.alice as IssuedCertificate);
    const replayed = await new HttpBrowser().follow(next);
    assert.equal(replayed.response.status, 400);
    assert.match(replayed.html, /took too long, or was started in another browser/);
    // Another browser with a state of its own cannot use a ticket issued for someone else's.
    const victim = new HttpBrowser();
    await victim.request(`${portal.url}/signin/smartcard`);
    const attacker = new HttpBrowser();
    const page = await atEndpoint(attacker, cards.bob);
    const forced = await victim.follow(nextLink(page.body));
    assert.equal(forced.response.status, 400);
    assert.doesNotMatch(forced.html, /Bob Example/);
    const refused = await latestAudit('smartcard.refused');
    assert.equal(refused?.detail.why, 'wrong_browser');
  });

  test('openssl s_client: the endpoint names the trusted CA in its request and reads the card', async () => {
    const state = 'A'.repeat(43);
    const output = await sClient(cards.alice as IssuedCertificate, `/signin?state=${state}`);
    assert.match(output, /Acceptable client certificate CA names\s*\n\s*CN = Test Care Identity CA/);
    assert.match(output, /HTTP\/1\.1 200/);
    assert.match(output, /Alice Smartcard/);
  });
});

describe('behind a TLS-terminating proxy: the certificate header', () => {
  let proxied: TestPortal;
  before(async () => {
    proxied = await startTestPortal({
      listen: true,
      smartcard: { trust, trustedProxies: ['127.0.0.1'], certificateHeader: 'X-SSL-Client-Cert' },
    });
    await addUser(proxied.core, 'alice@example.org', { displayName: 'Alice Example' });
  });
  after(() => proxied.close());

  async function viaProxy(header: string | undefined, target = proxied) {
    const browser = new HttpBrowser();
    const started = await browser.request(`${target.url}/signin/smartcard`);
    const location = started.headers.get('location') ?? '';
    const page = await curl(location, {
      caFile: serverCa.certFile,
      ...(header === undefined ? {} : { headers: { 'X-SSL-Client-Cert': header } }),
    });
    return { browser, page };
  }

  test("nginx's escaped PEM and HAProxy's base64 DER from a listed proxy sign in", async () => {
    const nginx = await viaProxy(encodeURIComponent(cards.alice?.certPem ?? ''));
    assert.equal(nginx.page.status, 200, nginx.page.body);
    const done = await nginx.browser.follow(nextLink(nginx.page.body));
    assert.match(done.html, /Alice Example/);
    const haproxy = await viaProxy(cards.alice?.der.toString('base64'));
    assert.equal(haproxy.page.status, 200);
  });

  test('a garbage or an oversized certificate in the header: a clear message, and the server carries on', async () => {
    const garbage = await viaProxy('-----BEGIN CERTIFICATE-----%0Anot base64 at all!%0A-----END');
    assert.equal(garbage.page.status, 403);
    assert.match(garbage.page.body, /could not be read/);
    const junk = await viaProxy(Buffer.from('random junk bytes').toString('base64'));
    assert.equal(junk.page.status, 403);
    const oversized = await viaProxy(encodeURIComponent(cards.big?.certPem ?? ''));
    assert.equal(oversized.page.status, 403);
    assert.match(oversized.page.body, /could not be read/);
    const fine = await viaProxy(encodeURIComponent(cards.alice?.certPem ?? ''));
    assert.equal(fine.page.status, 200);
  });

  test('a chain that loops, in the header: untrusted, said plainly', async () => {
    const a = pki.ca('Loop CA A');
    const b = pki.ca('Loop CA B');
    const looped = a.issue('looped', { email: 'alice@example.org' });
    const pems = [pemToDer(looped.certPem), b.crossCertify(a), a.crossCertify(b), b.crossCertify(a)]
      .map((der) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`)
      .join('');
    const { page } = await viaProxy(encodeURIComponent(pems));
    assert.equal(page.status, 403);
    assert.match(page.body, /not issued by an organisation this service trusts/);
  });

  test('without the header: no smartcard', async () => {
    const { page } = await viaProxy(undefined);
    assert.equal(page.status, 401);
  });

  test('a header from an address that is not a listed proxy is ignored and audited', async () => {
    const spoofed = await startTestPortal({
      listen: true,
      smartcard: {
        trust,
        tls: world.tls,
        trustedProxies: ['10.9.8.7'],
      },
    });
    try {
      await addUser(spoofed.core, 'alice@example.org', { displayName: 'Alice Example' });
      const { page } = await viaProxy(encodeURIComponent(cards.alice?.certPem ?? ''), spoofed);
      assert.equal(page.status, 401);
      assert.match(page.body, /No smartcard was found/);
      const ignored = (await spoofed.core.audit.list({ limit: 10 })).find(
        (e) => e.type === 'smartcard.header_ignored',
      );
      assert.ok(ignored, 'the ignored header is audited');
      assert.equal(ignored.clientAddress, '127.0.0.1');
      // The card presented in our own TLS still counts; the header does not replace it.
      const browser = new HttpBrowser();
      const started = await browser.request(`${spoofed.url}/signin/smartcard`);
      const withCard = await curl(started.headers.get('location') ?? '', {
        caFile: serverCa.certFile,
        cert: cards.alice as IssuedCertificate,
        headers: { 'X-SSL-Client-Cert': encodeURIComponent(cards.expired?.certPem ?? '') },
      });
      assert.equal(withCard.status, 200);
      assert.match(withCard.body, /Alice Smartcard/);
    } finally {
      await spoofed.close();
    }
  });
});

describe('Forgotten password: the smartcard and its PIN prove both factors', () => {
  const NEW_PASSWORD = 'Copper-Kettle-Harbour-5';

  /** Starts a reset in `browser` and returns the page it lands on and the reset's path. */
  async function startReset(browser: HttpBrowser, email: string) {
    const start = await browser.follow(`${portal.url}/signin/forgot`);
    const landed = await browser.submit(start.url, start.html, '/signin/forgot', { email });
    return { landed, path: new URL(landed.url).pathname };
  }

  /** From the reset's page to the endpoint with `card`, and back through its Next link. */
  async function withCard(browser: HttpBrowser, path: string, card: IssuedCertificate) {
    const sent = await browser.request(`${portal.url}${path}/smartcard`);
    assert.equal(sent.status, 303);
    const location = sent.headers.get('location') ?? '';
    assert.ok(location.startsWith(`${portal.certificateEndpointUrl}/reset?state=`), location);
    const page = await curl(location, { caFile: serverCa.certFile, cert: card });
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /Reset your password/);
    assert.match(page.body, /Select Next to choose a new password/);
    const next = nextLink(page.body);
    return { next, back: await browser.follow(next) };
  }

  test('a user with no other method resets with the card; the ticket works once; MFA unchanged', async () => {
    await addUser(portal.core, 'erin@example.org', { displayName: 'Erin Example' });
    const card = ca.issue('erin', { commonName: 'Erin Smartcard', email: 'erin@example.org' });
    const browser = new HttpBrowser();
    const { landed, path } = await startReset(browser, 'erin@example.org');
    assert.match(landed.html, /Contact the service desk/);
    assert.match(landed.html, /I have a smartcard: use it/);
    const { next, back } = await withCard(browser, path, card);
    assert.equal(new URL(back.url).pathname, `${path}/password`);
    assert.match(back.html, /Choose a new password/);
    const done = await browser.submit(back.url, back.html, `${path}/password`, {
      next: NEW_PASSWORD,
      confirm: NEW_PASSWORD,
    });
    assert.match(done.html, /Your password has been reset/);
    await portal.core.flow.signIn({
      email: 'erin@example.org',
      password: NEW_PASSWORD,
      clientAddress: '192.0.2.8',
    });
    const proved = (await portal.core.audit.list({ email: 'erin@example.org', limit: 20 })).filter(
      (e) => e.type === 'password_reset.factor_proved',
    );
    assert.deepEqual(
      proved.map((e) => e.detail.factor),
      ['smartcard'],
    );
    const replayed = await browser.follow(next);
    assert.equal(replayed.response.status, 400, 'the ticket was used');
  });

  test("another user's card, or a card with no account, proves nothing; an unknown address looks the same", async () => {
    await addUser(portal.core, 'frank@example.org', { displayName: 'Frank Example' });
    const browser = new HttpBrowser();
    const { path } = await startReset(browser, 'frank@example.org');
    const { back } = await withCard(browser, path, cards.bob as IssuedCertificate);
    assert.equal(back.response.status, 403);
    assert.match(back.html, /You cannot continue this password reset/);
    const refused = (await portal.core.audit.list({ email: 'frank@example.org', limit: 5 })).find(
      (e) => e.type === 'password_reset.refused',
    );
    assert.equal(refused?.detail.reason, 'smartcard_other_account');
    const still = await browser.follow(`${portal.url}${path}`);
    assert.doesNotMatch(still.html, /Choose a new password/);
    const password = await browser.request(`${portal.url}${path}/password`);
    assert.equal(password.status, 303, 'no new password without the factors');
    const stranger = await browser.request(`${portal.url}${path}/smartcard`);
    const page = await curl(stranger.headers.get('location') ?? '', {
      caFile: serverCa.certFile,
      cert: cards.stranger as IssuedCertificate,
    });
    assert.equal(page.status, 403);
    assert.match(page.body, /not linked to an account here/);
    const unknown = await startReset(new HttpBrowser(), 'nobody.at.all@example.org');
    assert.match(unknown.landed.html, /Contact the service desk/);
    assert.match(unknown.landed.html, /I have a smartcard: use it/);
  });
});

describe('Security info: add and remove a smartcard', () => {
  test('a signed-in user binds a card with no names in it, signs in with it, removes it', async () => {
    const browser = new HttpBrowser();
    const signInPage = await browser.follow(`${portal.url}/signin`);
    const home = await browser.submit(signInPage.url, signInPage.html, '/signin', {
      email: 'dana@example.org',
      password: TEST_PASSWORD,
    });
    assert.match(home.html, /Dana Example/);
    const info = await browser.follow(`${portal.url}/profile/security-info`);
    assert.match(info.html, /You have not added a smartcard/);
    assert.match(info.html, /href="\/profile\/security-info\/smartcard">Add smartcard/);

    // Before binding, the card maps to no one.
    const unbound = await atEndpoint(new HttpBrowser(), cards.unnamed);
    assert.equal(unbound.status, 403);

    const started = await browser.request(`${portal.url}/profile/security-info/smartcard`);
    const location = started.headers.get('location') ?? '';
    assert.match(location, /\/bind\?state=/);
    const page = await curl(location, {
      caFile: serverCa.certFile,
      cert: cards.unnamed as IssuedCertificate,
    });
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /Add your smartcard/);
    const added = await browser.follow(nextLink(page.body));
    assert.match(added.html, /Your smartcard was added/);
    assert.match(added.html, /CN=Dana Smartcard/);
    assert.ok(await latestAudit('smartcard.bound'));

    // The same card cannot be added twice, by anyone.
    const again = await browser.request(`${portal.url}/profile/security-info/smartcard`);
    const twice = await curl(again.headers.get('location') ?? '', {
      caFile: serverCa.certFile,
      cert: cards.unnamed as IssuedCertificate,
    });
    assert.equal(twice.status, 403);
    assert.match(twice.body, /already linked to an account/);

    const { done } = await cardSignIn(cards.unnamed as IssuedCertificate);
    assert.match(done.html, /Dana Example/);

    const [card] = await portal.core.smartcard.bindings(
      (await portal.core.accounts.find('dana@example.org'))!.id,
    );
    assert.ok(card);
    const confirm = await browser.follow(`${portal.url}/profile/security-info/smartcards/${card.id}/remove`);
    assert.match(confirm.html, /Remove this smartcard\?/);
    const removed = await browser.submit(
      confirm.url,
      confirm.html,
      `/profile/security-info/smartcards/${card.id}/remove`,
      {},
    );
    assert.match(removed.html, /The smartcard was removed/);
    assert.ok(await latestAudit('smartcard.removed'));
    const afterRemoval = await atEndpoint(new HttpBrowser(), cards.unnamed);
    assert.equal(afterRemoval.status, 403);
    assert.match(afterRemoval.body, /not linked to an account here/);
  });

  test('binding needs a signed-in session', async () => {
    const response = await new HttpBrowser().request(`${portal.url}/profile/security-info/smartcard`);
    assert.equal(response.status, 303);
    assert.equal(response.headers.get('location'), '/signin');
  });
});

describe('single sign-on: the card takes the user back to the application', () => {
  const REDIRECT = 'http://127.0.0.1:9/mail/callback';
  const atRedirect = (url: string) => url.startsWith(REDIRECT);
  let sso: TestPortal;
  let config: oidc.Configuration;

  before(async () => {
    sso = await startTestPortal({
      listen: true,
      singleSignOn: true,
      smartcard: { trust, tls: world.tls },
    });
    await addUser(sso.core, 'alice@example.org', { displayName: 'Alice Example' });
    const { application, clientSecret } = await sso.core.applications.add(
      {
        name: 'Mail',
        redirectUris: [REDIRECT],
        postLogoutRedirectUris: [],
        confidential: true,
        requireMfa: true,
      },
      'test',
    );
    config = await oidc.discovery(
      new URL(`${sso.url}/oidc`),
      application.clientId,
      clientSecret ?? '',
      undefined,
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
  });
  after(() => sso.close());

  test('an application that requires MFA gets acr mfa and amr sc, hwk, mfa from the card alone', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      acr_values: ACR_MFA,
    });
    const browser = new HttpBrowser();
    const signInPage = await browser.follow(url.toString(), atRedirect);
    const link = /href="(\/signin\/smartcard\?return=[^"]+)">Log in with my Care identity/.exec(
      signInPage.html,
    )?.[1];
    assert.ok(link, 'the sign-in page offers the card and keeps the way back');
    const started = await browser.request(new URL(link.replaceAll('&amp;', '&'), sso.url).toString());
    const page = await curl(started.headers.get('location') ?? '', {
      caFile: serverCa.certFile,
      cert: cards.alice as IssuedCertificate,
    });
    assert.equal(page.status, 200, page.body);
    const landed = await browser.follow(nextLink(page.body), atRedirect);
    assert.ok(atRedirect(landed.url), `back at the application: ${landed.url}`);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    assert.equal(tokens.claims()?.acr, ACR_MFA);
    assert.deepEqual(tokens.claims()?.amr, ['sc', 'hwk', 'mfa']);
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()?.sub ?? '');
    assert.equal(userinfo.email, 'alice@example.org');
  });
});

function sClient(card: IssuedCertificate | undefined, path: string): Promise<string> {
  const { port } = new URL(portal.certificateEndpointUrl);
  const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', serverCa.certFile, '-ign_eof'];
  if (card) args.push('-cert', card.certFile, '-key', card.keyFile);
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args);
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', () => resolve(output));
    child.stdin.end(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
}
