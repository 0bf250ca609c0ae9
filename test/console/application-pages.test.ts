import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { manualClock } from '../helpers/clock.ts';
import { consoleUser } from '../helpers/console.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import type { InjectClient } from '../helpers/inject-client.ts';
import { startTestPortal, type TestPortal } from '../helpers/portal.ts';

const NEW = '/admin/applications/new';
const form = {
  name: 'Rota',
  'redirect-uris': 'https://rota.example.org/callback\r\nhttp://localhost:8080/callback',
  'post-logout-uris': '',
  'launch-url': '',
  kind: 'confidential',
};

/** The applications pages over HTTP on each engine: words for bad input, nothing written; the secret once. */
for (const engine of ENGINES) {
  describe(`console application pages (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let portal: TestPortal;
    let operator: InjectClient;
    const clock = manualClock();

    before(async () => {
      if (skip) return;
      portal = await startTestPortal({ engine, clock });
      operator = (await consoleUser(portal.core, portal.app, clock, 'apps.operator@example.org', 'operator'))
        .client;
    });
    after(async () => portal?.close());

    const written = async () => ({
      applications: (await portal.core.applications.list()).map((a) => `${a.clientId} ${a.secretSealed}`),
      audit: (await portal.core.audit.list({ limit: 10_000 })).filter((e) =>
        e.type.startsWith('application.'),
      ).length,
    });
    const secretIn = (html: string) => /<code id="client-secret">([^<]+)<\/code>/.exec(html)?.[1];

    const refusals: [string, Record<string, string>, RegExp][] = [
      [
        'a javascript: redirect URI',
        { 'redirect-uris': 'javascript:alert(1)' },
        /Each redirect URI must start https:\/\//,
      ],
      [
        'a wildcard redirect URI',
        { 'redirect-uris': 'https://*.example.org/callback' },
        /Each redirect URI must not have a \* \(wildcards are not allowed\)/,
      ],
      [
        'a fragment',
        { 'redirect-uris': 'https://rota.example.org/cb#top' },
        /Each redirect URI must not have a # part/,
      ],
      ['no redirect URI', { 'redirect-uris': '' }, /Enter 1 to 10 redirect URIs, one on each line/],
      [
        'a bad sign-out address',
        { 'post-logout-uris': 'http://rota.example.org/' },
        /Each sign-out return address must start https:\/\//,
      ],
      ['a 60 KB name', { name: 'A'.repeat(60 * 1024) }, /Enter a name of 1 to 100 characters/],
      ['no name', { name: '' }, /Enter a name of 1 to 100 characters/],
    ];
    for (const [what, change, words] of refusals)
      test(`the add form refuses ${what}: the words beside the field, nothing written`, {
        skip: skip ?? false,
      }, async () => {
        const before = await written();
        const response = await operator.post(NEW, { ...form, ...change });
        assert.equal(response.statusCode, 400);
        assert.match(response.body, /There is a problem/);
        assert.match(response.body, words);
        assert.ok(response.body.length < 30_000, 'a long input is not sent back whole');
        assert.deepEqual(await written(), before);
      });

    test('adding shows the secret once; rotating shows a new one and the page never shows it again', {
      skip: skip ?? false,
    }, async () => {
      const added = await operator.post(NEW, form);
      assert.equal(added.statusCode, 200);
      assert.match(added.body, /It is shown only this once/);
      assert.equal(added.headers['cache-control'], 'no-store');
      const first = secretIn(added.body);
      assert.ok(first);
      const [application] = (await portal.core.applications.list()).filter((a) => a.name === 'Rota');
      assert.ok(application);
      const path = `/admin/applications/${application.clientId}`;

      const list = await operator.get('/admin/applications');
      assert.match(list.body, new RegExp(`href="${path}"`));
      const page = await operator.get(path);
      assert.match(page.body, /Rotate the client secret/);
      assert.ok(!page.body.includes(first), 'the application page does not show the secret');

      const rotated = await operator.post(`${path}/rotate-secret`, { reason: 'left in a script' });
      assert.equal(rotated.statusCode, 200);
      assert.match(rotated.body, /The old secret has stopped working/);
      const second = secretIn(rotated.body);
      assert.ok(second && second !== first);
      assert.equal(
        portal.core.applications.secretOf((await portal.core.applications.find(application.clientId))!),
        second,
      );
      assert.ok(!(await operator.get(path)).body.includes(second));

      const confirm = await operator.get(`${path}/remove`);
      assert.match(confirm.body, /Remove Rota\?/);
      assert.match(confirm.body, /This cannot be undone/);
      const removed = await operator.post(`${path}/remove`, { reason: 'retired' });
      assert.equal(removed.statusCode, 200);
      assert.match(removed.body, /Rota was removed/);
      assert.equal(await portal.core.applications.find(application.clientId), undefined);
    });

    test('a 1 MB name is refused before it is read (the body limit), nothing written', {
      skip: skip ?? false,
    }, async () => {
      const before = await written();
      const response = await operator.post(
        NEW,
        { ...form, name: 'A'.repeat(1024 * 1024) },
        { formPage: NEW },
      );
      assert.equal(response.statusCode, 413);
      assert.match(response.body, /What you sent is too large/);
      assert.match(response.body, /nothing was saved/);
      assert.deepEqual(await written(), before);
    });

    test('an unknown application: a clear 404, nothing written', { skip: skip ?? false }, async () => {
      const before = await written();
      for (const id of ['no-such-client', 'x'.repeat(100)]) {
        const page = await operator.get(`/admin/applications/${id}`);
        assert.equal(page.statusCode, 404);
        assert.match(page.body, /There is no application with that client ID/);
        for (const action of ['rotate-secret', 'remove']) {
          const posted = await operator.post(
            `/admin/applications/${id}/${action}`,
            { reason: 'test' },
            { formPage: '/admin/applications' },
          );
          assert.equal(posted.statusCode, 404, `${action} ${id.slice(0, 20)}`);
          assert.match(posted.body, /Nothing was changed/);
        }
      }
      assert.deepEqual(await written(), before);
    });

    test('a public application has no secret to rotate: no form, and a POST is refused in words', {
      skip: skip ?? false,
    }, async () => {
      const added = await operator.post(NEW, { ...form, name: 'Kiosk', kind: 'public' });
      assert.equal(added.statusCode, 200);
      assert.match(added.body, /This is a public application: it has no client secret/);
      const kiosk = (await portal.core.applications.list()).find((a) => a.name === 'Kiosk');
      assert.ok(kiosk && kiosk.secretSealed === null);
      const path = `/admin/applications/${kiosk.clientId}`;
      assert.doesNotMatch((await operator.get(path)).body, /Rotate the client secret/);
      const before = await written();
      const refused = await operator.post(`${path}/rotate-secret`, {}, { formPage: path });
      assert.equal(refused.statusCode, 409);
      assert.match(refused.body, /it has no client secret to rotate/);
      assert.deepEqual(await written(), before);
    });
  });
}
