import assert from 'node:assert/strict';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Algorithm, hash as argon2Hash } from '@node-rs/argon2';
import { hash as bcryptHashY } from '@node-rs/bcrypt';
import { importAccounts } from '../../src/cli/import-accounts.ts';
import { type Core, createCore, defaultCoreSettings, type GatehouseError } from '../../src/core/index.ts';
import type { Store } from '../../src/core/store.ts';
import { ENGINES, postgresUnavailable, type TestDatabase, testDatabase } from '../helpers/engines.ts';
import { addUser, TEST_SECRETS } from '../helpers/portal.ts';

/**
 * A bcrypt hash in the given version's prefix. @node-rs/bcrypt 1.10 (the release published for
 * every platform, so that npm ci works everywhere) writes $2y$; $2a$, $2b$ and $2y$ are the same
 * computation for these ASCII passwords of under 72 bytes, and differ only in the prefix.
 */
async function bcryptHash(password: string, options: { cost: number; version?: '2a' | '2b' | '2y' }) {
  return (await bcryptHashY(password, options.cost)).replace(/^\$2y\$/, `$${options.version ?? '2b'}$`);
}

const ARGON2ID = 2 as Algorithm;
const CURRENT = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/;

/** passlib's adapted base64: no padding, "." for "+". */
const ab64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '').replace(/\+/g, '.');

/** Real hashes of each encoding, made here with the real algorithms. */
async function legacyHashes() {
  const passlibSalt = randomBytes(16);
  const djangoSalt = 'q8Vw3kLmN2pXz7RtYb4cAe';
  return {
    argon2id: {
      password: 'Argon-Meadow-101',
      hash: await argon2Hash('Argon-Meadow-101', {
        algorithm: ARGON2ID,
        memoryCost: 7168,
        timeCost: 5,
        parallelism: 1,
      }),
    },
    bcrypt2a: {
      password: 'Bcrypt-Lantern-2a',
      hash: await bcryptHash('Bcrypt-Lantern-2a', { cost: 8, version: '2a' }),
    },
    bcrypt2b: {
      password: 'Bcrypt-Lantern-2b',
      hash: await bcryptHash('Bcrypt-Lantern-2b', { cost: 9, version: '2b' }),
    },
    bcrypt2y: {
      password: 'Bcrypt-Lantern-2y',
      hash: await bcryptHash('Bcrypt-Lantern-2y', { cost: 8, version: '2y' }),
    },
    passlib: {
      password: 'Passlib-Orchard-7',
      hash: `$pbkdf2-sha256$12000$${ab64(passlibSalt)}$${ab64(pbkdf2Sync('Passlib-Orchard-7', passlibSalt, 12000, 32, 'sha256'))}`,
    },
    django: {
      password: 'Django-Harbour-99',
      hash: `pbkdf2_sha256$15000$${djangoSalt}$${pbkdf2Sync('Django-Harbour-99', djangoSalt, 15000, 32, 'sha256').toString('base64')}`,
    },
  };
}

for (const engine of ENGINES) {
  describe(`users import with existing password hashes (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let database: TestDatabase;
    let store: Store;
    let core: Core;
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-import-'));
    let hashes: Awaited<ReturnType<typeof legacyHashes>>;
    let client = 0;
    // Each sign-in from its own address, so that no client limit is reached across tests.
    const from = () => `198.51.100.${++client}`;
    const signIn = (email: string, password: string) =>
      core.flow.signIn({ email, password, clientAddress: from() });
    const storedHash = async (email: string) => (await core.accounts.find(email))?.passwordHash;
    const refused = (e: GatehouseError) => e.code === 'invalid_credentials';

    before(async () => {
      if (skip) return;
      database = testDatabase(engine);
      store = await database.open();
      core = createCore({ store, secrets: TEST_SECRETS, settings: defaultCoreSettings });
      hashes = await legacyHashes();
      await addUser(core, 'already@example.org');
    });
    after(async () => {
      if (skip) return;
      await store.close();
      await database.drop();
    });

    test('imports each encoding, rejects bad hashes and duplicates by row with a reason', {
      skip: skip ?? false,
    }, async () => {
      const h = hashes;
      const lines = [
        'email,name,password,password_hash,groups',
        // argon2id's PHC string holds commas: quoted, as any CSV writer does.
        `argon@example.org,Argon,,"${h.argon2id.hash}",ward 7`,
        `b2a@example.org,B 2a,,${h.bcrypt2a.hash},`,
        `b2b@example.org,B 2b,,${h.bcrypt2b.hash},ward 7;theatres`,
        `b2y@example.org,B 2y,,${h.bcrypt2y.hash},`,
        `passlib@example.org,Passlib,,${h.passlib.hash},`,
        `django@example.org,Django,,${h.django.hash},`,
        'card@example.org,Card Only,,none,theatres',
        'plain@example.org,Plain,Quiet-River-311,,',
        // line 10 onwards: refused
        `weakbcrypt@example.org,Weak,,${h.bcrypt2b.hash.replace('$09$', '$05$')},`,
        'weakpbkdf2@example.org,Weak,,$pbkdf2-sha256$1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA,',
        'md5@example.org,MD5,,md5$abc$0123456789abcdef0123456789abcdef,',
        'argon2i@example.org,Argon2i,,"$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",',
        `truncated@example.org,Truncated,,${h.bcrypt2a.hash.slice(0, 40)},`,
        `both@example.org,Both,Quiet-River-312,${h.bcrypt2a.hash},`,
        'neither@example.org,Neither,,,',
        `argon@example.org,Argon Again,,${h.bcrypt2a.hash},`,
        'already@example.org,Already,,none,',
      ];
      const csv = join(dir, 'hashes.csv');
      writeFileSync(csv, `${lines.join('\n')}\n`);

      const dry = await importAccounts(core, csv, 'cli', true);
      assert.equal(dry.imported, 8);
      assert.equal(await core.accounts.find('argon@example.org'), undefined, 'a dry run writes nothing');

      const report = await importAccounts(core, csv, 'cli');
      assert.equal(report.imported, 8);
      assert.deepEqual(dry.rejected, report.rejected, 'a dry run reports what the import does');
      const reasons = new Map(report.rejected.map((r) => [r.line, r.reason]));
      assert.equal(report.rejected.length, 9);
      assert.match(reasons.get(10) ?? '', /bcrypt cost 5 is below the minimum of 8/);
      assert.match(reasons.get(11) ?? '', /PBKDF2 iterations 1000 is below the minimum of 10000/);
      assert.match(reasons.get(12) ?? '', /not a supported hash/);
      assert.match(reasons.get(13) ?? '', /only argon2id/);
      assert.match(reasons.get(14) ?? '', /not a well-formed bcrypt hash/);
      assert.match(reasons.get(15) ?? '', /a password or a password_hash, not both/);
      assert.match(reasons.get(16) ?? '', /a password is required/);
      assert.match(reasons.get(17) ?? '', /already exists/);
      assert.match(reasons.get(18) ?? '', /already exists/);
      for (const r of report.rejected)
        if (r.email !== 'argon@example.org' && r.email !== 'already@example.org')
          assert.equal(await core.accounts.find(r.email), undefined, `${r.email}: nothing written`);
      assert.equal((await core.accounts.find('argon@example.org'))?.displayName, 'Argon');
      assert.notEqual((await core.accounts.find('already@example.org'))?.displayName, 'Already');
      assert.deepEqual((await core.accounts.find('b2b@example.org'))?.groups, ['theatres', 'ward 7']);
      assert.match((await storedHash('plain@example.org')) ?? '', CURRENT, 'plain text is hashed');
      const added = (await core.audit.list({ email: 'django@example.org', limit: 5 })).map((e) => e.type);
      assert.deepEqual(added, ['account.added']);
    });

    test('signs in with the original password; the hash becomes argon2id, and the password still works', {
      skip: skip ?? false,
    }, async () => {
      const accounts = {
        'argon@example.org': hashes.argon2id,
        'b2a@example.org': hashes.bcrypt2a,
        'b2b@example.org': hashes.bcrypt2b,
        'b2y@example.org': hashes.bcrypt2y,
        'passlib@example.org': hashes.passlib,
        'django@example.org': hashes.django,
      };
      for (const [email, { password, hash }] of Object.entries(accounts)) {
        assert.equal(await storedHash(email), hash, `${email} kept its hash as imported`);
        await assert.rejects(signIn(email, `${password}x`), refused, `${email}: a wrong password fails`);
        assert.equal(await storedHash(email), hash, `${email}: a failed sign-in changes nothing`);
        const first = await signIn(email, password);
        assert.equal(first.account.email, email);
        const upgraded = (await storedHash(email)) ?? '';
        assert.match(upgraded, CURRENT, `${email} upgraded to argon2id`);
        const events = await core.audit.list({ email, limit: 5 });
        assert.ok(
          events.some((e) => e.type === 'account.password_rehashed'),
          `${email}: the upgrade is audited`,
        );
        await signIn(email, password);
        assert.equal(await storedHash(email), upgraded, `${email}: no second upgrade`);
        await assert.rejects(signIn(email, `${password}x`), refused);
      }
    });

    test('a legacy (LDAP) sign-in with the account password upgrades an imported hash too', {
      skip: skip ?? false,
    }, async () => {
      const csv = join(dir, 'legacy.csv');
      writeFileSync(csv, `email,name,password_hash\nldap@example.org,Ldap,${hashes.bcrypt2a.hash}\n`);
      assert.equal((await importAccounts(core, csv, 'cli')).imported, 1);
      const account = await core.legacySignIn({
        email: 'ldap@example.org',
        password: hashes.bcrypt2a.password,
        protocol: 'ldap',
        clientAddress: from(),
      });
      assert.equal(account.email, 'ldap@example.org');
      assert.match((await storedHash('ldap@example.org')) ?? '', CURRENT);
    });

    test('an account without a password cannot sign in with any password, the portal or LDAP', {
      skip: skip ?? false,
    }, async () => {
      const account = await core.accounts.find('card@example.org');
      assert.equal(account?.passwordHash, null);
      assert.deepEqual(account?.groups, ['theatres']);
      for (const password of ['none', 'Quiet-River-311', hashes.bcrypt2a.password])
        await assert.rejects(signIn('card@example.org', password), refused);
      await assert.rejects(
        core.legacySignIn({
          email: 'card@example.org',
          password: 'none',
          protocol: 'ldap',
          clientAddress: from(),
        }),
        refused,
      );
      const [failed] = await core.audit.list({ email: 'card@example.org', limit: 1 });
      assert.equal(failed?.type, 'app_password.rejected');
      const failures = (await core.audit.list({ email: 'card@example.org', limit: 10 })).filter(
        (e) => e.type === 'signin.failed',
      );
      assert.equal(failures.length, 3);
      assert.ok(failures.every((e) => e.detail.reason === 'no_password'));
    });

    test('duplicates across batches are rejected by row, in a dry run and for real', {
      skip: skip ?? false,
    }, async () => {
      const rows = ['email,name,password_hash'];
      for (let i = 0; i < 1200; i++) rows.push(`bulk${i}@example.org,Bulk ${i},none`);
      rows.push('bulk3@example.org,Bulk Again,none'); // line 1202, in the second batch
      rows.push('bulk1100@example.org,Bulk Again,none'); // line 1203, the same batch as its first
      const csv = join(dir, 'bulk.csv');
      writeFileSync(csv, `${rows.join('\n')}\n`);
      for (const dryRun of [true, false]) {
        const report = await importAccounts(core, csv, 'cli', dryRun);
        assert.equal(report.imported, 1200);
        assert.deepEqual(
          report.rejected.map((r) => [r.line, r.email]),
          [
            [1202, 'bulk3@example.org'],
            [1203, 'bulk1100@example.org'],
          ],
        );
      }
      assert.equal((await core.accounts.find('bulk3@example.org'))?.displayName, 'Bulk 3');
      assert.equal((await core.accounts.find('bulk1100@example.org'))?.displayName, 'Bulk 1100');
      let listed = 0;
      let previous = '';
      for await (const a of core.accounts.listAll(100)) {
        assert.ok(a.email > previous, 'in email order, each once');
        previous = a.email;
        listed += 1;
      }
      assert.equal(listed, 1200 + 8 + 1 + 1); // bulk, the first file, ldap@, already@
    });
  });
}
