import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { configSchema } from '../../src/config/config.ts';
import { CertificateTrust } from '../../src/core/methods/smartcard/trust.ts';
import { startServer } from '../../src/server.ts';
import { revocationLists } from '../../src/smartcard/revocation-lists.ts';
import { curl } from '../helpers/curl.ts';
import { type IssuedCertificate, pemToDer, pkiFolder, type TestCa } from '../helpers/pki.ts';
import { freeTcpPort } from '../helpers/ports.ts';

const pki = pkiFolder();
let ca: TestCa;
let card: IssuedCertificate;
before(() => {
  ca = pki.ca('Test Care Identity CA');
  card = ca.issue('alice', { commonName: 'Alice Smartcard', email: 'alice@example.org' });
});
after(() => pki.remove());

test('the server starts the certificate endpoint from settings, on its own port, and stops it', async () => {
  const server = ca.issue('endpoint', { usage: 'serverAuth', serverName: '127.0.0.1' });
  const port = await freeTcpPort();
  const app = await startServer(
    configSchema.parse({
      port: 0,
      host: '127.0.0.1',
      logLevel: 'silent',
      dataDir: mkdtempSync(join(tmpdir(), 'gatehouse-server-')),
      smartcard: {
        port,
        trustedCaFile: ca.certFile,
        crlFiles: [ca.crl().file],
        tlsCertFile: server.certFile,
        tlsKeyFile: server.keyFile,
      },
    }),
  );
  const endpoint = `https://127.0.0.1:${port}/signin?state=${'B'.repeat(43)}`;
  try {
    const portal = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const signInPage = await (await fetch(`${portal}/signin`)).text();
    assert.match(signInPage, /Log in with my Care identity/);
    const redirect = await fetch(`${portal}/signin/smartcard`, { redirect: 'manual' });
    assert.match(
      redirect.headers.get('location') ?? '',
      new RegExp(`^https://127\\.0\\.0\\.1:${port}/signin\\?state=`),
    );
    // The card maps to no account in this empty database: the page says so, from the real endpoint.
    const page = await curl(endpoint, { caFile: ca.certFile, cert: card });
    assert.equal(page.status, 403);
    assert.match(page.body, /not linked to an account here/);
  } finally {
    await app.close();
  }
  await assert.rejects(
    curl(endpoint, { caFile: ca.certFile, cert: card }),
    /Failed to connect|Connection refused/,
  );
});

describe('revocation lists from files and URLs', () => {
  test('a refresh picks up a new revocation; a source that fails keeps its last good copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-crl-'));
    const file = join(dir, 'care.crl');
    copyFileSync(ca.crl().file, file);
    let served: Buffer | undefined = ca.crl().der;
    const http = createHttpServer((_request, response) => {
      if (!served) response.writeHead(503).end();
      else response.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(served);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/care.crl`;
    try {
      const trust = new CertificateTrust([pemToDer(ca.pem)], { revocationRequired: true });
      const fromFile = revocationLists(trust, { files: [file], urls: [] }, pino({ level: 'silent' }));
      assert.equal(await fromFile.refresh(), 1);
      assert.equal((await trust.check([card.der], new Date())).ok, true);
      ca.revoke(card);
      copyFileSync(ca.crl().file, file);
      await fromFile.refresh();
      const revoked = await trust.check([card.der], new Date());
      assert.equal(revoked.ok ? 'ok' : revoked.problem, 'revoked');

      served = ca.crl().der;
      const urlTrust = new CertificateTrust([pemToDer(ca.pem)], { revocationRequired: true });
      const fromUrl = revocationLists(urlTrust, { files: [], urls: [url] }, pino({ level: 'silent' }));
      assert.equal(await fromUrl.refresh(), 1);
      assert.equal((await urlTrust.check([card.der], new Date())).ok, false);
      served = undefined; // the CRL server is down: the last copy still counts
      assert.equal(await fromUrl.refresh(), 1);
      const still = await urlTrust.check([card.der], new Date());
      assert.equal(still.ok ? 'ok' : still.problem, 'revoked');
      // A source that never worked leaves the issuer unknown: refused, not waved through.
      const neverTrust = new CertificateTrust([pemToDer(ca.pem)], { revocationRequired: true });
      await revocationLists(
        neverTrust,
        { files: [join(dir, 'missing.crl')], urls: [url] },
        pino({ level: 'silent' }),
      ).refresh();
      const unknown = await neverTrust.check(
        [ca.issue('erin', { email: 'erin@example.org' }).der],
        new Date(),
      );
      assert.equal(unknown.ok ? 'ok' : unknown.problem, 'revocation_unknown');
    } finally {
      http.close();
    }
  });
});
