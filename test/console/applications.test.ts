import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import type { ConsoleActor } from '../../src/core/console/actor.ts';
import { isGatehouseError } from '../../src/core/index.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import { HttpBrowser } from '../helpers/http-browser.ts';
import { addUser, startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { REDIRECT, relyingParty } from '../oidc/relying-party.ts';

const operator: ConsoleActor = { name: 'operator.apps@example.org', role: 'operator' };
const auditor: ConsoleActor = { name: 'auditor.apps@example.org', role: 'auditor' };

const good = {
  name: 'Rota',
  redirectUris: ['https://rota.example.org/callback'],
  postLogoutRedirectUris: ['https://rota.example.org/'],
  confidential: true,
  requireMfa: false,
};

/**
 * Applications in the console's core on each engine, against the real OpenID provider over
 * HTTP: a rotated secret is refused by the token endpoint at once, the new one accepted; a
 * removed application's grants and tokens are gone; bad input is refused with nothing written.
 */
for (const engine of ENGINES) {
  describe(`console applications (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let portal: TestPortal;
    let n = 0;

    before(async () => {
      if (!skip) portal = await startTestPortal({ engine, listen: true, singleSignOn: true });
    });
    after(async () => portal?.close());

    const applications = () => portal.core.console.applications;
    /** What is written: the applications and the audit log, compared before and after a refusal. */
    const written = async () => ({
      applications: (await applications().list()).map((a) => `${a.clientId} ${a.secretSealed}`),
      audit: (await portal.core.audit.list({ limit: 10_000 })).length,
    });

    async function signedInUser() {
      const email = `sso.user${++n}@example.org`;
      await addUser(portal.core, email);
      return email;
    }

    /** The provider's token endpoint, given a client_id and a secret, for a code a browser got. */
    async function exchangeWith(
      clientId: string,
      secret: string,
      answer: Parameters<RelyingPartyExchange>[0],
    ) {
      const config = await oidc.discovery(new URL(`${portal.url}/oidc`), clientId, secret, undefined, {
        execute: [oidc.allowInsecureRequests],
      });
      return oidc.authorizationCodeGrant(config, answer.url, {
        pkceCodeVerifier: answer.verifier,
        expectedState: answer.state,
      });
    }
    type RelyingPartyExchange = Awaited<ReturnType<typeof relyingParty>>['exchange'];

    test('a rotated secret: the token endpoint refuses the old one at once and accepts the new', {
      skip: skip ?? false,
    }, async () => {
      const rp = await relyingParty(portal);
      const { browser, tokens } = await rp.signIn(await signedInUser());
      assert.ok(tokens.access_token, 'the first secret works');

      const { clientSecret, application } = await applications().rotateSecret(
        operator,
        rp.clientId,
        'secret pasted in a ticket',
      );
      assert.ok(clientSecret && clientSecret !== rp.clientSecret);
      assert.ok(application.secretRotatedAt instanceof Date);

      // The same running provider, the same browser: a new code, exchanged with each secret.
      const answer = await rp.silently(browser);
      assert.ok(answer.code, `a code: ${answer.url}`);
      await assert.rejects(exchangeWith(rp.clientId, rp.clientSecret, answer), (error: unknown) => {
        assert.equal((error as { error?: string }).error, 'invalid_client');
        return true;
      });
      const fresh = await exchangeWith(rp.clientId, clientSecret, answer);
      assert.ok(fresh.access_token, 'the new secret is accepted (the refused attempt did not use the code)');

      const event = (await portal.core.audit.list({ limit: 20 })).find(
        (e) => e.type === 'application.secret_rotated',
      );
      assert.equal(event?.actor, operator.name);
      assert.deepEqual(event?.detail, {
        clientId: rp.clientId,
        name: 'Mail',
        reason: 'secret pasted in a ticket',
      });
      const stored = await applications().find(rp.clientId);
      assert.ok(stored?.secretSealed && !stored.secretSealed.includes(clientSecret), 'kept sealed');
      assert.equal(stored.secretRotatedAt?.getTime(), application.secretRotatedAt?.getTime());
    });

    test('removing an application ends its grants, codes and tokens, and is audited', {
      skip: skip ?? false,
    }, async () => {
      const rp = await relyingParty(portal);
      const { browser, tokens } = await rp.signIn(await signedInUser());
      const token = await portal.core.singleSignOn.find('AccessToken', tokens.access_token);
      const grantId = token?.payload.grantId;
      assert.equal(typeof grantId, 'string');
      assert.ok(await portal.core.singleSignOn.find('Grant', grantId as string), 'a grant to end');
      // A code issued but not yet exchanged goes too.
      const pending = await rp.silently(browser);
      assert.ok(pending.code);

      const { ended } = await applications().remove(operator, rp.clientId, 'retired');
      assert.ok(ended >= 3, `grant, access token and code ended: ${ended}`);
      assert.equal(await portal.core.singleSignOn.find('AccessToken', tokens.access_token), undefined);
      assert.equal(await portal.core.singleSignOn.find('Grant', grantId as string), undefined);
      assert.equal(await applications().find(rp.clientId), undefined);
      await assert.rejects(exchangeWith(rp.clientId, rp.clientSecret, pending), (error: unknown) => {
        assert.equal((error as { error?: string }).error, 'invalid_client');
        return true;
      });
      const event = (await portal.core.audit.list({ limit: 20 })).find(
        (e) => e.type === 'application.removed',
      );
      assert.equal(event?.actor, operator.name);
      assert.equal(event?.detail.clientId, rp.clientId);
      assert.equal(event?.detail.name, 'Mail');
      assert.equal(event?.detail.reason, 'retired');
    });

    test('adding is audited with the operator and the application; the secret is returned once', {
      skip: skip ?? false,
    }, async () => {
      const { application, clientSecret } = await applications().add(operator, {
        ...good,
        redirectUris: [...good.redirectUris, 'http://localhost:8080/callback', good.redirectUris[0]!],
      });
      assert.match(clientSecret ?? '', /^[\w-]{43}$/);
      assert.deepEqual(application.redirectUris, [
        'https://rota.example.org/callback',
        'http://localhost:8080/callback',
      ]);
      const listed = await applications().list();
      assert.ok(listed.some((a) => a.clientId === application.clientId && a.secretRotatedAt === null));
      const event = (await portal.core.audit.list({ limit: 5 })).find((e) => e.type === 'application.added');
      assert.equal(event?.actor, operator.name);
      assert.equal(event?.detail.clientId, application.clientId);
      assert.equal(JSON.stringify(event).includes(clientSecret ?? '-'), false, 'no secret in the log');
      const publicOne = await applications().add(operator, { ...good, name: 'Kiosk', confidential: false });
      assert.equal(publicOne.clientSecret, null);
      await assert.rejects(applications().rotateSecret(operator, publicOne.application.clientId), {
        code: 'application_public',
      });
    });

    const refusals: [string, Partial<typeof good>, string, string][] = [
      ['a javascript: redirect URI', { redirectUris: ['javascript:alert(1)'] }, 'redirectUris', 'not_https'],
      [
        'a wildcard redirect URI',
        { redirectUris: ['https://*.example.org/callback'] },
        'redirectUris',
        'wildcard',
      ],
      [
        'a wildcard in the path',
        { redirectUris: ['https://rota.example.org/*'] },
        'redirectUris',
        'wildcard',
      ],
      ['a fragment', { redirectUris: ['https://rota.example.org/cb#x'] }, 'redirectUris', 'fragment'],
      [
        'plain http off localhost',
        { redirectUris: ['http://rota.example.org/cb'] },
        'redirectUris',
        'not_https',
      ],
      ['a user name', { redirectUris: ['https://me@rota.example.org/cb'] }, 'redirectUris', 'credentials'],
      ['a relative URI', { redirectUris: ['/callback'] }, 'redirectUris', 'not_absolute'],
      ['no redirect URI', { redirectUris: [] }, 'redirectUris', 'count'],
      [
        'a bad post-logout URI',
        { postLogoutRedirectUris: ['javascript:alert(1)'] },
        'postLogoutRedirectUris',
        'not_https',
      ],
      ['a 1 MB name', { name: 'A'.repeat(1024 * 1024) }, 'name', 'length'],
      ['an empty name', { name: '   ' }, 'name', 'length'],
      ['a name with a control character', { name: 'Rota\u0007' }, 'name', 'length'],
    ];
    for (const [what, change, field, problem] of refusals)
      test(`adding refuses ${what}, with a clear message, nothing written`, {
        skip: skip ?? false,
      }, async () => {
        const before = await written();
        await assert.rejects(applications().add(operator, { ...good, ...change }), (error: unknown) => {
          assert.ok(isGatehouseError(error, 'invalid_input'), String(error));
          assert.equal(error.details.field, field);
          assert.equal(error.details.problem, problem);
          assert.ok(error.message.length < 200, 'the message does not echo a huge input');
          return true;
        });
        assert.deepEqual(await written(), before);
      });

    test('two rotations at once: one wins, the other is told, one secret works', {
      skip: skip ?? false,
    }, async () => {
      const { application } = await applications().add(operator, { ...good, name: 'Raced' });
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, () => applications().rotateSecret(operator, application.clientId)),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      assert.ok(won.length >= 1, 'at least one rotation happens');
      for (const r of lost) assert.ok(isGatehouseError(r.reason, 'application_changed'), String(r.reason));
      const stored = await applications().find(application.clientId);
      assert.ok(stored);
      const secrets = won.map((r) => r.value.clientSecret);
      // Every rotation that says it won is the one kept, or was replaced by a later winner it read.
      assert.ok(
        secrets.includes(portal.core.applications.secretOf(stored) ?? ''),
        'the kept secret was shown',
      );
      const audited = (await portal.core.audit.list({ limit: 50 })).filter(
        (e) => e.type === 'application.secret_rotated' && e.detail.clientId === application.clientId,
      );
      assert.equal(audited.length, won.length, 'each rotation that happened is audited, no other');
    });

    test('an unknown application: rotate and remove say so, nothing written', {
      skip: skip ?? false,
    }, async () => {
      const before = await written();
      for (const id of ['no-such-client', 'x'.repeat(1024 * 1024)]) {
        await assert.rejects(applications().rotateSecret(operator, id), { code: 'application_not_found' });
        await assert.rejects(applications().remove(operator, id), { code: 'application_not_found' });
      }
      assert.deepEqual(await written(), before);
    });

    test('an auditor reads the list but changes nothing', { skip: skip ?? false }, async () => {
      const { application } = await applications().add(operator, { ...good, name: 'Audited' });
      const before = await written();
      await assert.rejects(applications().add(auditor, good), { code: 'console_read_only' });
      await assert.rejects(applications().rotateSecret(auditor, application.clientId), {
        code: 'console_read_only',
      });
      await assert.rejects(applications().remove(auditor, application.clientId), {
        code: 'console_read_only',
      });
      await assert.rejects(applications().remove(operator, application.clientId, 'r'.repeat(501)), {
        code: 'invalid_input',
      });
      assert.deepEqual(await written(), before);
      assert.ok((await applications().list()).some((a) => a.clientId === application.clientId));
    });

    test('redirect URIs on loopback over http are allowed for development', {
      skip: skip ?? false,
    }, async () => {
      const { application } = await applications().add(operator, {
        ...good,
        name: 'Local',
        redirectUris: [REDIRECT, 'http://[::1]:3000/cb', 'http://localhost/cb'],
      });
      assert.equal(application.redirectUris.length, 3);
      // A fresh browser is not needed: the provider reads the new client at once.
      const browser = new HttpBrowser();
      const page = await browser.follow(
        `${portal.url}/oidc/auth?client_id=${application.clientId}&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`,
        (u) => u.startsWith(REDIRECT),
      );
      assert.match(page.url, /\/signin\?return=%2Finteraction%2F/, 'the provider knows the new client');
    });
  });
}
