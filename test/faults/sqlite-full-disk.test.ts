import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type DatabaseUnavailableError, isDatabaseUnavailable } from '../../src/core/errors.ts';
import { openStore } from '../../src/store/open-store.ts';
import { sqliteEngine } from '../../src/store/sqlite.ts';
import { gatehouse } from '../helpers/cli.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { addUser, startTestPortal, TEST_PASSWORD } from '../helpers/portal.ts';

/**
 * SQLite's file on a disk that fills up: a real, tiny filesystem (tmpfs mounted for the test, so
 * the kernel answers ENOSPC as a full disk does), never a simulated error. Needs permission to
 * mount (root in the test container); without it the test says so and is skipped.
 */

/** Writes until the filesystem refuses: the disk is now full. */
function fillUp(file: string) {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
}

function tryMount(dir: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `cannot mount a small filesystem here (${(error as Error).message.split('\n')[0]})`;
  }
}

test('SQLite on a full disk: a plain "try again" page, a clear CLI error, and recovery once space is freed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-full-'));
  const refused = tryMount(dir);
  if (refused) {
    rmSync(dir, { recursive: true, force: true });
    t.skip(refused);
    return;
  }
  try {
    const env = { GATEHOUSE_DATA_DIR: dir };
    const first = await gatehouse(
      ['users', 'add', 'first@example.org', '--name', 'First'],
      env,
      `${TEST_PASSWORD}\n`,
    );
    assert.equal(first.code, 0, first.stderr);
    const location = { engine: 'sqlite', file: join(dir, 'gatehouse.sqlite') } as const;
    const portal = await startTestPortal({
      database: {
        location,
        open: () => openStore(location),
        rawEngine: () => sqliteEngine(location.file),
        drop: async () => {},
      },
    });
    try {
      await addUser(portal.core, 'web@example.org');
      const filler = join(dir, 'filler');
      fillUp(filler);

      // The store says what happened, as one typed error, once SQLite's own spare pages are used up.
      let outage: DatabaseUnavailableError | undefined;
      for (let i = 0; i < 500 && !outage; i++) {
        try {
          await portal.core.audit.record({
            type: 'request.csrf_rejected',
            detail: { pad: 'x'.repeat(16_000) },
          });
        } catch (error) {
          if (!isDatabaseUnavailable(error)) throw error;
          outage = error;
        }
      }
      assert.ok(outage, 'a write failed once the disk was full');
      assert.equal(outage.reason, 'disk_full');
      assert.equal((outage.cause as { code?: string }).code, 'SQLITE_FULL');

      // The person signing in is told to try again in a moment: a 503, never a wrong password.
      const pc = new InjectClient(portal.app);
      const signIn = await pc.post(
        '/signin',
        { email: 'web@example.org', password: TEST_PASSWORD },
        { formPage: '/signin' },
      );
      assert.equal(signIn.statusCode, 503);
      assert.equal(signIn.headers['retry-after'], '5');
      assert.match(signIn.body, /Wait a moment, then try again/);

      // The operator's command says the disk is full, and exits 1 (not a crash, not a usage error).
      const cli = await gatehouse(
        ['users', 'add', 'second@example.org', '--name', 'Second'],
        env,
        `${TEST_PASSWORD}\n`,
      );
      assert.equal(cli.code, 1, cli.stderr);
      assert.match(
        cli.stderr,
        /the disk that holds the database is full; nothing was changed: free some space/,
      );

      // Space freed: the same portal carries on, no restart.
      rmSync(filler);
      const again = await pc.post(
        '/signin',
        { email: 'web@example.org', password: TEST_PASSWORD },
        { formPage: '/signin' },
      );
      assert.equal(again.statusCode, 303);
      assert.equal((await portal.app.inject('/readyz')).statusCode, 200);
      const later = await gatehouse(
        ['users', 'add', 'second@example.org', '--name', 'Second'],
        env,
        `${TEST_PASSWORD}\n`,
      );
      assert.equal(later.code, 0, later.stderr);
    } finally {
      await portal.close();
    }
  } finally {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});
