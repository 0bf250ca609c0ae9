import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { startLdapGateway } from '../../src/gateways/ldap/server.ts';
import { run } from '../gateways/legacy-clients.ts';
import { type Dovecot, type DovecotBindMode, startDovecot } from '../helpers/dovecot.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { selfSignedCertificate } from '../helpers/tls.ts';

const BASE = 'ou=people,dc=example,dc=org';
const SERVICE_DN = 'cn=dovecot,ou=services,dc=example,dc=org';
const SERVICE_PASSWORD = 'dovecot-service-secret-0123456789';

/** curl's IMAP client: LIST of the mailbox root, a mail client's first request after login. */
const listMailboxes = (port: number, user: string, password: string) =>
  run('curl', [
    '--silent',
    '--show-error',
    '--max-time',
    '15',
    '--user',
    `${user}:${password}`,
    `imap://127.0.0.1:${port}/`,
  ]);

const MODES: [string, DovecotBindMode][] = [
  ['auth_bind_userdn template', { kind: 'userdn' }],
  [
    'search first with the service account',
    { kind: 'search', serviceDn: SERVICE_DN, servicePassword: SERVICE_PASSWORD },
  ],
];

// The gateway's writes (throttle, audit) run on both engines in test/gateways/ldap-service.test.ts;
// Dovecot, a peer that takes seconds to start, runs on the default engine.
for (const [modeName, mode] of MODES) {
  describe(`Dovecot IMAP on the LDAP gateway, ${modeName}`, () => {
    let portal: TestPortal;
    let gateway: Awaited<ReturnType<typeof startLdapGateway>>;
    let dovecot: Dovecot;
    let key = '';
    const email = 'mail.reader@example.org';

    before(async () => {
      portal = await startTestPortal();
      const account = await addUser(portal.core, email, { displayName: 'Mai Reader' });
      await portal.core.enrolment.enable(account, '127.0.0.1');
      key = (await portal.core.appPasswords.create(account, 'Mail on the laptop', '127.0.0.1')).keyPassword;
      const tls = selfSignedCertificate();
      gateway = await startLdapGateway(
        portal.core,
        {
          host: '127.0.0.1',
          port: 0,
          baseDn: BASE,
          tls,
          allowPlain: false,
          serviceAccount: {
            dn: SERVICE_DN,
            password: SERVICE_PASSWORD,
            searchesPerMinute: 100,
            sizeLimit: 5,
          },
        },
        pino({ level: process.env.GATEHOUSE_TEST_LOG ?? 'silent' }),
      );
      dovecot = await startDovecot({ ldapPort: gateway.port, baseDn: BASE, caCert: tls.cert, mode });
    });
    after(async () => {
      await dovecot?.stop();
      await gateway?.close();
      await portal?.close();
    });

    test('an app password lists the INBOX over IMAP', async () => {
      const listed = await listMailboxes(dovecot.port, email, key);
      assert.equal(listed.code, 0, `${listed.out}\n${dovecot.log()}`);
      assert.match(listed.out, /LIST \(.*\) "." INBOX/);
    });

    test('the account password is refused once MFA is on', async () => {
      const refused = await listMailboxes(dovecot.port, email, TEST_PASSWORD);
      assert.equal(refused.code, 67, refused.out); // curl: login denied
      const [event] = await portal.core.audit.list({ email, limit: 1 });
      assert.equal(event?.type, 'legacy.password_refused');
    });

    test('a revoked app password is refused at once', async () => {
      const account = (await portal.core.accounts.find(email))!;
      const second = await portal.core.appPasswords.create(account, 'Old phone mail', '127.0.0.1');
      assert.equal((await listMailboxes(dovecot.port, email, second.keyPassword)).code, 0);
      await portal.core.appPasswords.revoke(account, second.appPassword.id, email, '127.0.0.1');
      const refused = await listMailboxes(dovecot.port, email, second.keyPassword);
      assert.equal(refused.code, 67, refused.out);
      assert.equal((await listMailboxes(dovecot.port, email, key)).code, 0, 'the other one still works');
    });

    test('an unknown user is refused', async () => {
      const refused = await listMailboxes(dovecot.port, 'nobody.here@example.org', key);
      assert.equal(refused.code, 67, refused.out);
    });

    if (mode.kind === 'search') {
      test("the service account's searches are summed in one audit row, not one per search", async () => {
        await gateway.close(); // writes the summary
        const rows = (await portal.core.audit.list({ limit: 100 })).filter(
          (e) => e.type === 'directory.searches',
        );
        assert.equal(rows.length, 1, JSON.stringify(rows));
        assert.equal(rows[0]?.actor, SERVICE_DN);
        const detail = rows[0]?.detail as { searches: number; entries: number };
        // Four logins with a known user (one twice over), one with an unknown one.
        assert.ok(detail.searches >= 5, JSON.stringify(detail));
        assert.equal(detail.entries, detail.searches - 1, JSON.stringify(detail));
      });
    }
  });
}
