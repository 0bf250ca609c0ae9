import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { startLdapGateway } from '../../src/gateways/ldap/server.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { selfSignedCertificate } from '../helpers/tls.ts';

const BASE = 'ou=people,dc=example,dc=org';

/** Debian's OpenLDAP clients (ldap-utils); resolves with the exit code and output. */
function ldap(command: 'ldapwhoami' | 'ldapsearch', args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; out: string }>((resolve) => {
    execFile(command, args, { env: { ...process.env, ...env }, timeout: 10_000 }, (error, stdout, stderr) => {
      const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

describe('LDAP gateway with ldapwhoami and ldapsearch', () => {
  let portal: TestPortal;
  let gateway: Awaited<ReturnType<typeof startLdapGateway>>;
  let key = '';
  let caFile = '';
  const email = 'mail.client@example.org';
  const dn = `uid=${email},${BASE}`;
  const url = () => `ldap://127.0.0.1:${gateway.port}`;

  before(async () => {
    portal = await startTestPortal();
    const account = await addUser(portal.core, email, { displayName: 'Mel Client' });
    await portal.core.enrolment.enable(account, '127.0.0.1');
    key = (await portal.core.appPasswords.create(account, 'Thunderbird on laptop', '127.0.0.1')).keyPassword;
    const tls = selfSignedCertificate();
    caFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-ldap-')), 'ca.pem');
    writeFileSync(caFile, tls.cert);
    gateway = await startLdapGateway(
      portal.core,
      { host: '127.0.0.1', port: 0, tlsPort: 0, baseDn: BASE, tls, allowPlain: false },
      pino({ level: 'silent' }),
    );
  });
  after(async () => {
    await gateway.close();
    await portal.close();
  });

  test('binds with an app password and reads the own entry', async () => {
    const whoami = await ldap('ldapwhoami', ['-x', '-H', url(), '-D', dn, '-w', key]);
    assert.equal(whoami.code, 0, whoami.out);
    assert.match(whoami.out, new RegExp(`dn:uid=${email},${BASE}`));
    const search = await ldap('ldapsearch', [
      '-x',
      '-LLL',
      '-H',
      url(),
      '-D',
      dn,
      '-w',
      key,
      '-b',
      BASE,
      `(&(objectClass=inetOrgPerson)(mail=${email}))`,
      'mail',
      'displayName',
      'uid',
    ]);
    assert.equal(search.code, 0, search.out);
    assert.match(search.out, /displayName: Mel Client/);
    assert.match(search.out, new RegExp(`mail: ${email}`));
    assert.doesNotMatch(search.out, /cn:/, 'only the attributes asked for');
    const none = await ldap('ldapsearch', [
      '-x',
      '-LLL',
      '-H',
      url(),
      '-D',
      dn,
      '-w',
      key,
      '-b',
      BASE,
      '(mail=someone.else@example.org)',
    ]);
    assert.equal(none.out.trim(), '', 'no other entries');
    const account = (await portal.core.accounts.find(email))!;
    const [used] = await portal.store.appPasswords.listForAccount(account.id);
    assert.equal(used?.lastUsedProtocol, 'ldap');
  });

  test('refuses the account password once MFA is on (invalidCredentials, 49)', async () => {
    const result = await ldap('ldapwhoami', ['-x', '-H', url(), '-D', dn, '-w', TEST_PASSWORD]);
    assert.equal(result.code, 49, result.out);
    assert.match(result.out, /Invalid credentials/);
  });

  test('an anonymous client can search nothing', async () => {
    const result = await ldap('ldapsearch', ['-x', '-LLL', '-H', url(), '-b', BASE, '(objectClass=*)']);
    assert.equal(result.code, 50, result.out);
  });

  test('StartTLS and LDAPS work with the certificate', async () => {
    const startTls = await ldap('ldapwhoami', ['-x', '-ZZ', '-H', url(), '-D', dn, '-w', key], {
      LDAPTLS_CACERT: caFile,
    });
    assert.equal(startTls.code, 0, startTls.out);
    const ldaps = await ldap(
      'ldapwhoami',
      ['-x', '-H', `ldaps://127.0.0.1:${gateway.tlsPort}`, '-D', dn, '-w', key],
      { LDAPTLS_CACERT: caFile },
    );
    assert.equal(ldaps.code, 0, ldaps.out);
  });

  test('malformed and unsupported requests are refused without affecting other clients', async () => {
    const send = (bytes: Buffer) =>
      new Promise<Buffer>((resolve) => {
        const socket = connect(gateway.port, '127.0.0.1', () => socket.write(bytes));
        const chunks: Buffer[] = [];
        socket.on('data', (d) => chunks.push(d));
        socket.on('close', () => resolve(Buffer.concat(chunks)));
        socket.setTimeout(2000, () => socket.destroy());
      });
    const garbage = await send(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x01]));
    assert.ok(garbage.includes(Buffer.from('1.3.6.1.4.1.1466.20036')), 'a Notice of Disconnection');
    const notMessage = await send(Buffer.from([0x04, 0x02, 0x41, 0x42]));
    assert.ok(notMessage.includes(Buffer.from('1.3.6.1.4.1.1466.20036')));
    const oversized = await send(
      Buffer.concat([Buffer.from([0x30, 0x83, 0x10, 0x00, 0x00]), Buffer.alloc(70_000)]),
    );
    assert.ok(oversized.includes(Buffer.from('1.3.6.1.4.1.1466.20036')));
    // A delete request (application 10) on a read-only directory: unwillingToPerform (53).
    const del = await new Promise<Buffer>((resolve) => {
      const socket = connect(gateway.port, '127.0.0.1', () =>
        socket.write(Buffer.from([0x30, 0x06, 0x02, 0x01, 0x05, 0x4a, 0x01, 0x78])),
      );
      socket.once('data', (d) => {
        socket.destroy();
        resolve(d);
      });
    });
    assert.ok(del.includes(Buffer.from([0x0a, 0x01, 53])), 'unwillingToPerform');
    const still = await ldap('ldapwhoami', ['-x', '-H', url(), '-D', dn, '-w', key]);
    assert.equal(still.code, 0, still.out);
  });

  test('a revoked app password, and a reset of MFA, end its use at once', async () => {
    const account = (await portal.core.accounts.find(email))!;
    const second = await portal.core.appPasswords.create(account, 'Old desktop client', '127.0.0.1');
    assert.equal((await ldap('ldapwhoami', ['-x', '-H', url(), '-D', dn, '-w', second.keyPassword])).code, 0);
    await portal.core.appPasswords.revoke(account, second.appPassword.id, email, '127.0.0.1');
    assert.equal(
      (await ldap('ldapwhoami', ['-x', '-H', url(), '-D', dn, '-w', second.keyPassword])).code,
      49,
    );
    await portal.core.methods.resetMfa(account, 'servicedesk');
    assert.equal((await ldap('ldapwhoami', ['-x', '-H', url(), '-D', dn, '-w', key])).code, 49);
  });
});
