import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CertificateTrust } from '../../src/core/methods/smartcard/trust.ts';
import { httpOcspTransport } from '../../src/smartcard/ocsp-transport.ts';
import { type IssuedCertificate, pemToDer, pkiFolder, type TestCa } from '../helpers/pki.ts';
import { freeTcpPort } from '../helpers/ports.ts';

/** OCSP against `openssl ocsp`, a real responder, with no CRL at all: the answer alone decides. */
describe('OCSP, where the card names a responder and the operator allows it', () => {
  const pki = pkiFolder();
  let ca: TestCa;
  let responder: { url: string; stop(): void };
  let good: IssuedCertificate;
  let bad: IssuedCertificate;
  const transport = httpOcspTransport(5);
  const withOcsp = () =>
    new CertificateTrust([pemToDer(ca.pem)], { revocationRequired: true, ocsp: transport });

  before(async () => {
    ca = pki.ca('Test Care Identity CA');
    // The responder reads the CA's index as it starts: the cards are issued and revoked first.
    const port = await freeTcpPort();
    good = ca.issue('ocsp-good', { email: 'good@example.org', ocspUrl: `http://127.0.0.1:${port}` });
    bad = ca.issue('ocsp-revoked', { email: 'bad@example.org', ocspUrl: `http://127.0.0.1:${port}` });
    ca.revoke(bad);
    responder = await ca.ocspResponder(port);
  });
  after(() => {
    responder.stop();
    pki.remove();
  });

  test('good: accepted without any CRL; revoked: refused; without OCSP allowed: revocation unknown', async () => {
    const now = new Date();
    const accepted = await withOcsp().check([good.der], now);
    assert.equal(accepted.ok, true, JSON.stringify(accepted));
    const refused = await withOcsp().check([bad.der], now);
    assert.equal(refused.ok ? 'ok' : refused.problem, 'revoked');
    const off = await new CertificateTrust([pemToDer(ca.pem)], { revocationRequired: true }).check(
      [good.der],
      now,
    );
    assert.equal(off.ok ? 'ok' : off.problem, 'revocation_unknown');
  });

  test('a delegated responder certified by the CA for OCSP signing is believed', async () => {
    const signer = ca.issue('ocsp-signer', { usage: 'ocspSigning' });
    const port = await freeTcpPort();
    const revoked = ca.issue('delegated-revoked', {
      email: 'bad2@example.org',
      ocspUrl: `http://127.0.0.1:${port}`,
    });
    ca.revoke(revoked);
    const delegated = await ca.ocspResponder(port, signer);
    try {
      const result = await withOcsp().check([revoked.der], new Date());
      assert.equal(result.ok ? 'ok' : result.problem, 'revoked');
    } finally {
      delegated.stop();
    }
  });

  test('an answer signed by anyone else, garbage, or a responder that is down settles nothing', async () => {
    const impostorCa = pki.ca('Test Care Identity CA');
    // The impostor's responder says "good" for serials it knows: give it the same index as the CA.
    const forged = await impostorCa.ocspResponder(await freeTcpPort());
    const garbage = createHttpServer((_request, response) => response.end('not an OCSP response'));
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    const garbageUrl = `http://127.0.0.1:${(garbage.address() as AddressInfo).port}`;
    try {
      for (const url of [forged.url, garbageUrl, `http://127.0.0.1:${await freeTcpPort()}`]) {
        const card = ca.issue(`card-${Math.random().toString(16).slice(2)}`, {
          email: 'x@example.org',
          ocspUrl: url,
        });
        // Checked after the card was made: openssl dates it to the second.
        const result = await withOcsp().check([card.der], new Date(Date.now() + 1000));
        assert.equal(result.ok ? 'ok' : result.problem, 'revocation_unknown', url);
      }
      // The CRL still decides when the responder cannot: with a current CRL the card is accepted.
      const card = ca.issue('with-crl', { email: 'y@example.org', ocspUrl: garbageUrl });
      const trust = withOcsp();
      trust.setRevocationLists([ca.crl().der]);
      assert.equal((await trust.check([card.der], new Date(Date.now() + 2000))).ok, true);
    } finally {
      forged.stop();
      garbage.close();
    }
  });
});
