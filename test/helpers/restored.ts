import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { coreSettings, loadConfig, storeLocation } from '../../src/config/config.ts';
import { secretBoxFor } from '../../src/config/secrets-key.ts';
import { type Core, createCore } from '../../src/core/index.ts';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import type { Store } from '../../src/core/store.ts';
import { startServer } from '../../src/server.ts';
import { openStore } from '../../src/store/open-store.ts';
import { HttpBrowser } from './http-browser.ts';

/** A core on the database and key that `env` names, as `gatehouse serve` makes it. */
export async function withCoreOf<T>(
  env: Record<string, string>,
  work: (core: Core, store: Store) => Promise<T>,
) {
  const config = loadConfig(env, tmpdir());
  const store = await openStore(storeLocation(config));
  try {
    return await work(
      createCore({ store, settings: coreSettings(config), secrets: secretBoxFor(config) }),
      store,
    );
  } finally {
    await store.close();
  }
}

/**
 * After a restore: the portal served from `env` as `gatehouse serve` serves it signs the user in
 * with the password and a verification code, and the app password opens legacy sign-in.
 */
export async function restoredSignIns(
  env: Record<string, string>,
  user: { email: string; password: string; totpSecret: string; appPassword: string },
) {
  const app = await startServer(
    loadConfig(
      {
        ...env,
        GATEHOUSE_PORT: '0',
        GATEHOUSE_HOST: '127.0.0.1',
        GATEHOUSE_LOG_LEVEL: 'silent',
        GATEHOUSE_COOKIE_SECURE: 'false',
      },
      tmpdir(),
    ),
  );
  try {
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const browser = new HttpBrowser();
    const form = await browser.follow(`${url}/signin`);
    const codePage = await browser.submit(form.url, form.html, '/signin', {
      email: user.email,
      password: user.password,
    });
    assert.equal(new URL(codePage.url).pathname, '/mfa/verify/code', codePage.html.slice(0, 300));
    // The next step's code: the one the registration used may not be used twice.
    const code = codeAt(user.totpSecret, new Date(Date.now() + 30_000));
    const home = await browser.submit(codePage.url, codePage.html, '/mfa/verify/code', { code });
    assert.equal(home.response.status, 200);
    assert.equal(new URL(home.url).pathname, '/', 'signed in with the verification code after the restore');
  } finally {
    await app.close();
  }
  await withCoreOf(env, async (core) => {
    const account = await core.legacySignIn({
      email: user.email,
      password: user.appPassword,
      protocol: 'ldap',
      clientAddress: '127.0.0.1',
    });
    assert.equal(account.email, user.email, 'the app password works after the restore');
  });
}
