import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Algorithm, hash as rawArgon2Hash } from '@node-rs/argon2';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { addUser, startTestPortal, type TestPortal } from '../helpers/portal.ts';

const NFC = 'Crème-Brûlée-42'.normalize('NFC');
const NFD = NFC.normalize('NFD');

async function signIn(portal: TestPortal, email: string, password: string) {
  const client = new InjectClient(portal.app);
  const response = await client.post('/signin', { email, password }, { formPage: '/signin' });
  return response.statusCode;
}

for (const engine of ENGINES) {
  describe(`signing in to the portal with either Unicode form of a password on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let portal: TestPortal;

    before(async () => {
      if (skip) return;
      portal = await startTestPortal({ engine });
      await addUser(portal.core, 'nfc@example.org', { password: NFC });
      await addUser(portal.core, 'nfd@example.org', { password: NFD });
    });
    after(async () => {
      if (!skip) await portal.close();
    });

    test('an account created with the NFC form signs in with the NFD form, and with NFC', {
      skip: skip ?? false,
    }, async () => {
      assert.equal(await signIn(portal, 'nfc@example.org', NFD), 303);
      assert.equal(await signIn(portal, 'nfc@example.org', NFC), 303);
      assert.equal(await signIn(portal, 'nfc@example.org', 'Creme-Brulee-42'), 401);
    });

    test('an account created with the NFD form signs in with the NFC form, and with NFD', {
      skip: skip ?? false,
    }, async () => {
      assert.equal(await signIn(portal, 'nfd@example.org', NFC), 303);
      assert.equal(await signIn(portal, 'nfd@example.org', NFD), 303);
    });

    test('a hash stored before normalisation (argon2id over NFD input) signs in with both forms', {
      skip: skip ?? false,
    }, async () => {
      const account = await addUser(portal.core, 'legacy@example.org', { password: NFC });
      const legacy = await rawArgon2Hash(NFD, {
        algorithm: 2 as Algorithm,
        memoryCost: 19456,
        timeCost: 2,
        parallelism: 1,
      });
      await portal.store.accounts.updatePasswordHash(account.id, legacy);
      assert.equal(await signIn(portal, 'legacy@example.org', NFC), 303);
      assert.equal(await signIn(portal, 'legacy@example.org', NFD), 303);
      assert.equal(await signIn(portal, 'legacy@example.org', 'Creme-Brulee-42'), 401);
    });
  });
}
