import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { startLdapGateway } from '../../src/gateways/ldap/server.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import { addUser, startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { type PortalProcess, portalProcess } from '../helpers/portal-process.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { run } from './legacy-clients.ts';

const BASE = 'ou=people,dc=example,dc=org';
const SERVICE_DN = 'cn=mail-server,ou=services,dc=example,dc=org';
const SERVICE_PASSWORD = 'mail-server-service-secret-0123';
const PER_MINUTE = 12;
const ROOMY_LOCKOUT = { maxFailures: 40, windowMinutes: 15, lockMinutes: 15 };
const LOCKOUT = { maxFailures: 5, windowMinutes: 15, lockMinutes: 15 };

for (const engine of ENGINES) {
  const skip = (engine === 'postgres' ? await postgresUnavailable() : null) ?? false;
  describe(`LDAP service account: search then bind, with ldapsearch (${engine})`, { skip }, () => {
    let portal: TestPortal;
    let gateway: Awaited<ReturnType<typeof startLdapGateway>>;
    let key = '';
    const url = () => `ldap://127.0.0.1:${gateway.port}`;
    const ann = 'ann.mail@example.org';
    const bob = 'bob.mail@example.org';
    /** ldapsearch bound as `dn`; resolves with the exit code (the LDAP result code) and output. */
    const search = (dn: string, password: string, filter: string, ...attributes: string[]) =>
      run('ldapsearch', [
        '-x',
        '-LLL',
        '-H',
        url(),
        '-D',
        dn,
        '-w',
        password,
        '-b',
        BASE,
        filter,
        ...attributes,
      ]);
    const asService = (filter: string, ...attributes: string[]) =>
      search(SERVICE_DN, SERVICE_PASSWORD, filter, ...attributes);

    before(async () => {
      // Room for the parallel binds of the search quota's test: binds beyond the lockout's limit
      // in flight are refused unchecked (busy), which the test below shows with the default.
      portal = await startTestPortal({ engine, settings: { accountLockout: ROOMY_LOCKOUT } });
      await portal.core.accounts.excludeGroupFromMfa('secure care', 'Guidance to follow.', 'test');
      const account = await addUser(portal.core, ann, { displayName: 'Ann Mail', groups: ['mail-users'] });
      await addUser(portal.core, bob, { displayName: 'Bob Mail', groups: ['secure care'] });
      for (let i = 0; i < 4; i++) await addUser(portal.core, `user${i}@example.org`);
      await portal.core.enrolment.enable(account, '127.0.0.1');
      key = (await portal.core.appPasswords.create(account, 'Mail client', '127.0.0.1')).keyPassword;
      gateway = await startLdapGateway(
        portal.core,
        {
          host: '127.0.0.1',
          port: 0,
          baseDn: BASE,
          allowPlain: false,
          serviceAccount: {
            dn: SERVICE_DN,
            password: SERVICE_PASSWORD,
            searchesPerMinute: PER_MINUTE,
            sizeLimit: 3,
          },
        },
        pino({ level: 'silent' }),
      );
    });
    after(async () => {
      await gateway?.close();
      await portal?.close();
    });

    test('finds an entry by uid or by mail, with the usual attributes', async () => {
      const byUid = await asService(`(&(objectClass=inetOrgPerson)(uid=${bob}))`);
      assert.equal(byUid.code, 0, byUid.out);
      assert.match(byUid.out, new RegExp(`^dn: uid=${bob},${BASE}$`, 'm'));
      for (const line of [`uid: ${bob}`, `mail: ${bob}`, 'cn: Bob Mail', 'displayName: Bob Mail'])
        assert.ok(byUid.out.includes(line), byUid.out);
      assert.match(byUid.out, /memberOf: cn=secure care,ou=groups,dc=example,dc=org/);
      const byMail = await asService(`(mail=${ann})`, 'mail', 'memberOf');
      assert.match(byMail.out, new RegExp(`dn: uid=${ann},${BASE}`));
      assert.match(byMail.out, /memberOf: cn=mail-users,ou=groups,dc=example,dc=org/);
      assert.doesNotMatch(byMail.out, /displayName/, 'only what was asked for');
      const unknown = await asService('(uid=nobody@example.org)');
      assert.equal(unknown.code, 0);
      assert.equal(unknown.out.trim(), '');
    });

    test('then binds as the DN found with the app password', async () => {
      const found = await asService(`(uid=${ann})`, 'dn');
      const dn = /^dn: (.+)$/m.exec(found.out)?.[1];
      assert.equal(dn, `uid=${ann},${BASE}`);
      const whoami = await run('ldapwhoami', ['-x', '-H', url(), '-D', dn!, '-w', key]);
      assert.equal(whoami.code, 0, whoami.out);
    });

    test('a search that would walk the directory is refused (unwillingToPerform, 53)', async () => {
      for (const filter of ['(objectClass=*)', '(cn=Ann*)', `(!(uid=${ann}))`]) {
        const result = await asService(filter);
        assert.equal(result.code, 53, `${filter}: ${result.out}`);
        assert.doesNotMatch(result.out, /^dn:/m);
      }
    });

    test('at most sizeLimit entries, then sizeLimitExceeded (4)', async () => {
      const users = ['user0', 'user1', 'user2', 'user3'].map((u) => `(uid=${u}@example.org)`).join('');
      const result = await asService(`(|${users})`);
      assert.equal(result.code, 4, result.out);
      assert.equal(result.out.match(/^dn:/gm)?.length, 3);
    });

    test('a wrong service password is refused and audited', async () => {
      const result = await search(SERVICE_DN, 'not-the-service-password', `(uid=${ann})`);
      assert.equal(result.code, 49, result.out);
      const events = await portal.core.audit.list({ limit: 20 });
      const refused = events.find((e) => e.type === 'directory.service_refused');
      assert.equal(refused?.actor, SERVICE_DN);
    });

    test('a user sees only their own entry, whatever the filter', async () => {
      const dn = `uid=${ann},${BASE}`;
      const other = await search(dn, key, `(uid=${bob})`);
      assert.equal(other.code, 0, other.out);
      assert.equal(other.out.trim(), '');
      const all = await search(dn, key, '(objectClass=*)', 'uid');
      assert.equal(all.out.match(/^dn:/gm)?.length, 1);
      assert.match(all.out, new RegExp(`uid: ${ann}`));
    });

    test('anonymous sees nothing (insufficientAccessRights, 50)', async () => {
      const result = await run('ldapsearch', ['-x', '-LLL', '-H', url(), '-b', BASE, `(uid=${ann})`]);
      assert.equal(result.code, 50, result.out);
    });

    test('searches are limited per minute, counted atomically across parallel clients', async () => {
      // A service account of its own, so that no earlier search is in its minute's count.
      const limitedDn = 'cn=busy-server,ou=services,dc=example,dc=org';
      const own = await startLdapGateway(
        portal.core,
        {
          host: '127.0.0.1',
          port: 0,
          baseDn: BASE,
          allowPlain: false,
          serviceAccount: {
            dn: limitedDn,
            password: SERVICE_PASSWORD,
            searchesPerMinute: PER_MINUTE,
            sizeLimit: 3,
          },
        },
        pino({ level: 'silent' }),
      );
      try {
        const results = await Promise.all(
          Array.from({ length: PER_MINUTE + 6 }, () =>
            run('ldapsearch', [
              '-x',
              '-LLL',
              '-H',
              `ldap://127.0.0.1:${own.port}`,
              '-D',
              limitedDn,
              '-w',
              SERVICE_PASSWORD,
              '-b',
              BASE,
              `(uid=${ann})`,
              'dn',
            ]),
          ),
        );
        const found = results.filter((r) => r.code === 0).length;
        const busy = results.filter((r) => r.code === 51).length;
        assert.equal(found, PER_MINUTE, `${found} found, ${busy} busy`);
        assert.equal(busy, 6, results.map((r) => `${r.code}: ${r.out}`).join('\n'));
        const limited = (await portal.core.audit.list({ limit: 50 })).filter(
          (e) => e.type === 'directory.search_limited' && e.actor === limitedDn,
        );
        assert.equal(limited.length, 1, 'audited once, not once per refusal');
      } finally {
        await own.close();
      }
    });
  });
  describe(`LDAP service account: parallel wrong passwords (${engine})`, { skip }, () => {
    let portal: TestPortal;
    let gateway: Awaited<ReturnType<typeof startLdapGateway>>;
    const dn = 'cn=guessed-server,ou=services,dc=example,dc=org';
    const bind = (password: string) =>
      run('ldapwhoami', ['-x', '-H', `ldap://127.0.0.1:${gateway.port}`, '-D', dn, '-w', password]);

    before(async () => {
      portal = await startTestPortal({ engine, settings: { accountLockout: LOCKOUT } });
      gateway = await startLdapGateway(
        portal.core,
        {
          host: '127.0.0.1',
          port: 0,
          baseDn: BASE,
          allowPlain: false,
          serviceAccount: { dn, password: SERVICE_PASSWORD, searchesPerMinute: PER_MINUTE, sizeLimit: 3 },
        },
        pino({ level: 'silent' }),
      );
    });
    after(async () => {
      await gateway?.close();
      await portal?.close();
    });

    test('of 12 parallel guesses at most 5 are checked, then even the right password is locked out', async () => {
      const guesses = await Promise.all(Array.from({ length: 12 }, (_, i) => bind(`guess-${i}`)));
      const codes = guesses.map((g) => g.code);
      // Checked and wrong: 49; refused unchecked while others were in flight: 51 or 49 (locked).
      assert.ok(
        codes.every((c) => c === 49 || c === 51),
        guesses.map((g) => `${g.code}: ${g.out}`).join('\n'),
      );
      const checked = (await portal.core.audit.list({ limit: 50 })).filter(
        (e) => e.type === 'directory.service_refused' && e.actor === dn,
      );
      assert.equal(checked.length, LOCKOUT.maxFailures, 'guesses compared with the secret');
      const right = await bind(SERVICE_PASSWORD);
      assert.equal(right.code, 49, right.out);
      assert.match(right.out, /too many failed attempts/);
    });
  });
}

describe('gatehouse serve with an LDAP service account from the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ldap-serve-'));
  let server: PortalProcess;
  let ldapPort = 0;

  before(async () => {
    ldapPort = await freeTcpPort();
    const config = join(dir, 'gatehouse.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        ldap: { host: '127.0.0.1', port: ldapPort, baseDn: BASE, serviceAccount: { dn: SERVICE_DN } },
      }),
    );
    server = portalProcess(await freeTcpPort(), {
      GATEHOUSE_CONFIG: config,
      GATEHOUSE_DATA_DIR: join(dir, 'data'),
      GATEHOUSE_LDAP_SERVICE_PASSWORD: SERVICE_PASSWORD,
    });
    await server.start();
  });
  after(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the service account binds with the password from GATEHOUSE_LDAP_SERVICE_PASSWORD only', async () => {
    const url = `ldap://127.0.0.1:${ldapPort}`;
    const whoami = await run('ldapwhoami', ['-x', '-H', url, '-D', SERVICE_DN, '-w', SERVICE_PASSWORD]);
    assert.equal(whoami.code, 0, `${whoami.out}\n${server.stderr()}`);
    assert.match(whoami.out, new RegExp(`dn:${SERVICE_DN}`));
    const wrong = await run('ldapwhoami', ['-x', '-H', url, '-D', SERVICE_DN, '-w', `${SERVICE_PASSWORD}x`]);
    assert.equal(wrong.code, 49, wrong.out);
    const found = await run('ldapsearch', [
      '-x',
      '-LLL',
      '-H',
      url,
      '-D',
      SERVICE_DN,
      '-w',
      SERVICE_PASSWORD,
      '-b',
      BASE,
      '(uid=nobody@example.org)',
    ]);
    assert.equal(found.code, 0, found.out);
  });
});
