import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Chromium on Linux keeps client certificates in NSS at $HOME/.pki/nssdb. A home of the test's own,
 * filled with Debian's NSS tools (certutil, pk12util, modutil), as a user's browser would be.
 */
export function nssHome(): { home: string; db: string; remove(): void } {
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-nss-'));
  const db = join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${db}`, '--empty-password'], { stdio: 'pipe' });
  return { home, db, remove: () => rmSync(home, { recursive: true, force: true }) };
}

export function trustCaInNss(db: string, nickname: string, caFile: string): void {
  execFileSync('certutil', ['-A', '-d', `sql:${db}`, '-n', nickname, '-t', 'CT,C,C', '-i', caFile], {
    stdio: 'pipe',
  });
}

export function importPkcs12(db: string, p12File: string): void {
  execFileSync('pk12util', ['-i', p12File, '-d', `sql:${db}`, '-W', 'test'], { stdio: 'pipe' });
}

const POLICY_DIR = '/etc/chromium/policies/managed';

/**
 * Chromium's AutoSelectCertificateForUrls policy, as an organisation deploys it: without it,
 * headless Chromium waits for a certificate chooser it cannot show. Chromium on Linux reads
 * policies only from this machine-wide folder, so each test writes its own file and removes it.
 */
export function autoSelectCertificatePolicy(origin: string, issuerCommonName: string): { remove(): void } {
  mkdirSync(POLICY_DIR, { recursive: true });
  const file = join(POLICY_DIR, `gatehouse-test-${process.pid}-${Date.now()}.json`);
  const rule = JSON.stringify({ pattern: origin, filter: { ISSUER: { CN: issuerCommonName } } });
  writeFileSync(file, JSON.stringify({ AutoSelectCertificateForUrls: [rule] }));
  return { remove: () => rmSync(file, { force: true }) };
}

const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

/**
 * A software smartcard (softhsm2) holding the card's key and certificate, registered in the NSS
 * database as a PKCS#11 module, as a card reader's driver would be. The key is stored without
 * CKA_PRIVATE, so that headless Chromium can use it without the PIN dialog it cannot show (the
 * PIN itself is a matter between the card and the browser, not the server). Returns the
 * SOFTHSM2_CONF the browser needs, and one for an empty reader (the card taken out).
 */
export function softwareSmartcard(
  dir: string,
  db: string,
  card: { certFile: string; keyFile: string },
): { conf: string; emptyReaderConf: string } {
  const conf = join(dir, 'softhsm2.conf');
  const emptyReaderConf = join(dir, 'softhsm2-empty.conf');
  mkdirSync(join(dir, 'tokens'), { recursive: true });
  mkdirSync(join(dir, 'no-tokens'), { recursive: true });
  const settings = (tokens: string) =>
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`;
  writeFileSync(conf, settings(join(dir, 'tokens')));
  writeFileSync(emptyReaderConf, settings(join(dir, 'no-tokens')));
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const run = (command: string, args: string[]) => execFileSync(command, args, { env, stdio: 'pipe' });
  const token = 'pkcs11:token=gatehouse-card';
  run('softhsm2-util', [
    '--init-token',
    '--free',
    '--label',
    'gatehouse-card',
    '--so-pin',
    '12345678',
    '--pin',
    '1234',
  ]);
  for (const [what, file] of [
    ['--load-privkey', card.keyFile],
    ['--load-certificate', card.certFile],
  ] as const)
    run('p11tool', [
      '--provider',
      SOFTHSM_MODULE,
      '--login',
      '--set-pin=1234',
      '--write',
      '--no-mark-private',
      what,
      file,
      '--label',
      'card',
      '--id',
      '01',
      token,
    ]);
  // NSS recognises a user certificate before login only by a public key object with the same id.
  const publicKey = join(dir, 'card.pub.der');
  run('openssl', ['pkey', '-in', card.keyFile, '-pubout', '-outform', 'DER', '-out', publicKey]);
  run('pkcs11-tool', [
    '--module',
    SOFTHSM_MODULE,
    '--token-label',
    'gatehouse-card',
    '--login',
    '--pin',
    '1234',
    '--write-object',
    publicKey,
    '--type',
    'pubkey',
    '--id',
    '01',
    '--label',
    'card',
  ]);
  run('modutil', ['-dbdir', `sql:${db}`, '-add', 'SoftHSM', '-libfile', SOFTHSM_MODULE, '-force']);
  // "Friendly": NSS lists its certificates without logging in (no PIN prompt just to look).
  run('modutil', ['-dbdir', `sql:${db}`, '-default', 'SoftHSM', '-mechanisms', 'FRIENDLY', '-force']);
  return { conf, emptyReaderConf };
}
