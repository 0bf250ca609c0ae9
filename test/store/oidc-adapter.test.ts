import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { aesGcmSecretBox } from '../../src/core/crypto/secret-box.ts';
import { createCore } from '../../src/core/index.ts';
import type { Store } from '../../src/core/store.ts';
import { databaseAdapter } from '../../src/oidc/adapter.ts';
import { manualClock } from '../helpers/clock.ts';
import { ENGINES, postgresUnavailable, type TestDatabase, testDatabase } from '../helpers/engines.ts';

for (const engine of ENGINES) {
  describe(`OpenID provider storage on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    const clock = manualClock();
    let database: TestDatabase;
    let store: Store;
    let Adapter: ReturnType<typeof databaseAdapter>;

    before(async () => {
      if (skip) return;
      database = testDatabase(engine);
      store = await database.open();
      const core = createCore({ store, clock, secrets: aesGcmSecretBox(Buffer.alloc(32, 3)) });
      Adapter = databaseAdapter(core.singleSignOn, core.applications);
      await core.applications.add(
        {
          name: 'Mail',
          redirectUris: ['https://mail.example.org/cb'],
          postLogoutRedirectUris: [],
          confidential: true,
          requireMfa: true,
        },
        'test',
      );
    });
    after(async () => {
      if (skip) return;
      await store.close();
      await database.drop();
    });

    test('stores, finds, and expires a record', { skip: skip ?? false }, async () => {
      const codes = new Adapter('AuthorizationCode');
      await codes.upsert('c1', { accountId: 'a1', grantId: 'g1', scope: 'openid' }, 60);
      assert.deepEqual(await codes.find('c1'), { accountId: 'a1', grantId: 'g1', scope: 'openid' });
      clock.advanceMinutes(2);
      assert.equal(await codes.find('c1'), undefined, 'expired');
    });

    test('consumes once and reports it in the payload', { skip: skip ?? false }, async () => {
      const codes = new Adapter('AuthorizationCode');
      await codes.upsert('c2', { accountId: 'a1' }, 60);
      await codes.consume('c2');
      const found = await codes.find('c2');
      assert.equal(typeof found?.consumed, 'number');
      const first = found?.consumed;
      await assert.rejects(codes.consume('c2'), (e: { error?: string }) => e.error === 'invalid_grant');
      assert.equal((await codes.find('c2'))?.consumed, first, 'the first consumption stands');
      await codes.upsert('c2', { accountId: 'a1' }, 60);
      assert.equal(
        (await codes.find('c2'))?.consumed,
        first,
        'saving it again does not make it usable again',
      );
    });

    test('200 consumptions of one code at once: one goes through, 199 are refused', {
      skip: skip ?? false,
    }, async () => {
      const codes = new Adapter('AuthorizationCode');
      await codes.upsert('c3', { accountId: 'a1' }, 60);
      const outcomes = await Promise.allSettled(Array.from({ length: 200 }, () => codes.consume('c3')));
      const refused = outcomes.filter(
        (o) => o.status === 'rejected' && (o.reason as { error?: string }).error === 'invalid_grant',
      );
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      assert.equal(refused.length, 199);
    });

    test('finds by uid and user code; destroys; revokes everything of a grant', {
      skip: skip ?? false,
    }, async () => {
      const sessions = new Adapter('Session');
      await sessions.upsert('s1', { uid: 'u-1', accountId: 'a1' }, 3600);
      assert.equal((await sessions.findByUid('u-1'))?.accountId, 'a1');
      const devices = new Adapter('DeviceCode');
      await devices.upsert('d1', { userCode: 'ABCD-EFGH', grantId: 'g9' }, 600);
      assert.equal((await devices.findByUserCode('ABCD-EFGH'))?.grantId, 'g9');
      const tokens = new Adapter('AccessToken');
      await tokens.upsert('t1', { grantId: 'g9' }, 600);
      await new Adapter('RefreshToken').upsert('r1', { grantId: 'g9' }, 600);
      const interactions = new Adapter('Interaction');
      await interactions.upsert('i1', { uid: 'i1', grantId: 'g9' }, 600);
      await tokens.revokeByGrantId('g9');
      assert.equal(await tokens.find('t1'), undefined);
      assert.equal(await new Adapter('RefreshToken').find('r1'), undefined);
      assert.equal((await interactions.find('i1'))?.grantId, 'g9', 'the interaction under way stays');
      await sessions.destroy('s1');
      assert.equal(await sessions.find('s1'), undefined);
    });

    test('serves registered applications as clients, secret included, nothing else', {
      skip: skip ?? false,
    }, async () => {
      const [mail] = await store.applications.list();
      const client = await new Adapter('Client').find(mail!.clientId);
      assert.equal(client?.client_name, 'Mail');
      assert.deepEqual(client?.redirect_uris, ['https://mail.example.org/cb']);
      assert.equal(client?.token_endpoint_auth_method, 'client_secret_basic');
      assert.equal(typeof client?.client_secret, 'string');
      assert.equal(client?.require_mfa, true);
      assert.equal(await new Adapter('Client').find('unknown'), undefined);
    });
  });
}
