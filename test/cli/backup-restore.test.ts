import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { coreSettings, loadConfig, storeLocation } from '../../src/config/config.ts';
import { secretBoxFor } from '../../src/config/secrets-key.ts';
import { createCore } from '../../src/core/index.ts';
import { openStore } from '../../src/store/open-store.ts';
import { gatehouse } from '../helpers/cli.ts';
import { addUser, registerCodeApp } from '../helpers/portal.ts';
import { restoredSignIns } from '../helpers/restored.ts';

const PASSWORD = 'Blue-Harbour-42';

/** A core on a data folder, as `gatehouse serve` makes it (its own key file, its own database). */
async function coreOn(dataDir: string) {
  const config = loadConfig({ GATEHOUSE_DATA_DIR: dataDir }, dataDir);
  const store = await openStore(storeLocation(config));
  return {
    store,
    core: createCore({ store, settings: coreSettings(config), secrets: secretBoxFor(config) }),
  };
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('gatehouse backup and restore (embedded database)', () => {
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-backup-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('an online backup restored into a fresh folder signs in with TOTP and an app password', async () => {
    const original = join(root, 'original');
    const restored = join(root, 'restored');
    const backupFile = join(root, 'gatehouse-backup.sqlite');
    const email = 'robin@example.org';
    const added = await gatehouse(
      ['users', 'add', email, '--name', 'Robin Doe'],
      { GATEHOUSE_DATA_DIR: original },
      `${PASSWORD}\n`,
    );
    assert.equal(added.code, 0, added.stderr);

    // The portal's connection stays open and writing while the backup is taken: an online copy.
    const live = await coreOn(original);
    const { secret } = await registerCodeApp(live.core, email, () => new Date());
    const account = await live.core.accounts.find(email);
    assert.ok(account);
    const { keyPassword } = await live.core.appPasswords.create(account, 'Mail on the laptop', '127.0.0.1');
    const [made] = await Promise.all([
      gatehouse(['backup', backupFile], { GATEHOUSE_DATA_DIR: original }),
      addUser(live.core, 'during@example.org'),
    ]);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(statSync(backupFile).mode & 0o777, 0o600, 'the backup holds the key: owner only');
    await addUser(live.core, 'after@example.org');
    await live.store.close();

    const before = sha256(backupFile);
    const again = await gatehouse(['backup', backupFile], { GATEHOUSE_DATA_DIR: original });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists: refusing to overwrite/);
    assert.equal(sha256(backupFile), before, 'the first backup is untouched');

    const put = await gatehouse(['restore', backupFile], { GATEHOUSE_DATA_DIR: restored });
    assert.equal(put.code, 0, put.stderr);
    assert.equal(
      readFileSync(join(restored, 'secrets.key'), 'utf8'),
      readFileSync(join(original, 'secrets.key'), 'utf8'),
      'the secrets key came back with the database',
    );
    assert.equal(statSync(join(restored, 'secrets.key')).mode & 0o777, 0o600);
    const twice = await gatehouse(['restore', backupFile], { GATEHOUSE_DATA_DIR: restored });
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /refusing to overwrite/);

    await restoredSignIns(
      { GATEHOUSE_DATA_DIR: restored },
      { email, password: PASSWORD, totpSecret: secret, appPassword: keyPassword },
    );
    const back = await coreOn(restored);
    try {
      assert.ok(
        await back.core.accounts.find('during@example.org'),
        'written by the running portal before the copy',
      );
      assert.equal(
        await back.core.accounts.find('after@example.org'),
        undefined,
        'written after the copy: not in it',
      );
    } finally {
      await back.store.close();
    }
  });

  test('refuses a file that is not a backup, and refuses with PostgreSQL, pointing to pg_dump', async () => {
    const folder = join(root, 'other');
    const notBackup = join(root, 'not-a-backup.txt');
    const restoredInto = join(root, 'nothing');
    await gatehouse(
      ['users', 'add', 'sam@example.org', '--name', 'Sam'],
      { GATEHOUSE_DATA_DIR: folder },
      `${PASSWORD}\n`,
    );
    const wrong = await gatehouse(['restore', join(folder, 'secrets.key')], {
      GATEHOUSE_DATA_DIR: restoredInto,
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /not a Gatehouse backup/);
    assert.equal(existsSync(join(restoredInto, 'gatehouse.sqlite')), false);
    const postgres = await gatehouse(['backup', notBackup], {
      GATEHOUSE_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
      GATEHOUSE_SECRETS_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    assert.equal(postgres.code, 1);
    assert.match(postgres.stderr, /pg_dump/);
    assert.match(postgres.stderr, /GATEHOUSE_SECRETS_KEY/);
    assert.equal(existsSync(notBackup), false);
    const usage = await gatehouse(['backup'], { GATEHOUSE_DATA_DIR: folder });
    assert.equal(usage.code, 2);
  });
});
