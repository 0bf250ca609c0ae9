import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CertificateTrust } from '../../src/core/methods/smartcard/trust.ts';
import { type IssuedCertificate, opensslDate, pemToDer, pkiFolder, type TestCa } from '../helpers/pki.ts';

const pki = pkiFolder();
let ca: TestCa;
let otherCa: TestCa;
let card: IssuedCertificate;
let upnCard: IssuedCertificate;
let crl: Buffer;
const now = () => new Date();

function trustWith(crls: Buffer[] = [crl], revocationRequired = true) {
  const trust = new CertificateTrust([pemToDer(ca.pem)], { revocationRequired });
  trust.setRevocationLists(crls);
  return trust;
}

before(() => {
  ca = pki.ca('Test Care Identity CA');
  otherCa = pki.ca('Some Other CA');
  card = ca.issue('alice', { commonName: 'Alice Smartcard', email: 'Alice@Example.org' });
  upnCard = ca.issue('bob', { commonName: 'Bob Smartcard', upn: 'bob@example.org' });
  crl = ca.crl().der;
});
after(() => pki.remove());

describe('a smartcard certificate', () => {
  test('issued by the trusted CA, in date, for client authentication and not revoked: accepted, names read', async () => {
    const result = await trustWith().check([card.der], now());
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.ok(result.ok);
    assert.equal(result.certificate.commonName, 'Alice Smartcard');
    assert.deepEqual(result.certificate.emails, ['alice@example.org']);
    assert.match(result.certificate.issuer, /CN=Test Care Identity CA/);
    assert.match(result.certificate.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const upn = await trustWith().check([upnCard.der], now());
    assert.ok(upn.ok);
    assert.deepEqual(upn.certificate.upns, ['bob@example.org']);
    assert.deepEqual(upn.certificate.emails, []);
  });

  test('Microsoft smartcard logon usage is accepted like client authentication', async () => {
    const logon = ca.issue('logon', { usage: 'smartcardLogon', email: 'logon@example.org' });
    assert.equal((await trustWith([ca.crl().der]).check([logon.der], now())).ok, true);
  });

  test('none presented: missing', async () => {
    assert.deepEqual(await trustWith().check([], now()), { ok: false, problem: 'missing' });
  });

  test('from another CA: untrusted', async () => {
    const stranger = otherCa.issue('mallory', { email: 'alice@example.org' });
    const result = await trustWith().check([stranger.der], now());
    assert.equal(result.ok ? 'ok' : result.problem, 'untrusted');
  });

  test("a self-signed copy of the CA's name is not the CA: untrusted", async () => {
    const impostor = pki.ca('Test Care Identity CA');
    const forged = impostor.issue('forged', { email: 'alice@example.org' });
    const result = await trustWith().check([forged.der, pemToDer(impostor.pem)], now());
    assert.equal(result.ok ? 'ok' : result.problem, 'untrusted');
  });

  test('expired, or not valid yet', async () => {
    const expired = ca.issue('expired', { startDate: opensslDate(-60), endDate: opensslDate(-1) });
    const future = ca.issue('future', { startDate: opensslDate(2), endDate: opensslDate(30) });
    const trust = trustWith([ca.crl().der]);
    const a = await trust.check([expired.der], now());
    const b = await trust.check([future.der], now());
    assert.equal(a.ok ? 'ok' : a.problem, 'expired');
    assert.equal(b.ok ? 'ok' : b.problem, 'not_yet_valid');
  });

  test('made for servers, or a CA certificate: wrong usage', async () => {
    const server = ca.issue('server', { usage: 'serverAuth', serverName: '127.0.0.1' });
    const trust = trustWith([ca.crl().der]);
    const a = await trust.check([server.der], now());
    const b = await trust.check([pemToDer(ca.pem)], now());
    assert.equal(a.ok ? 'ok' : a.problem, 'wrong_usage');
    assert.equal(b.ok ? 'ok' : b.problem, 'wrong_usage');
  });

  test('revoked: refused once the CRL lists it, and not before', async () => {
    const carol = ca.issue('carol', { email: 'carol@example.org' });
    const before = ca.crl().der;
    ca.revoke(carol);
    const afterRevocation = ca.crl().der;
    assert.equal((await trustWith([before]).check([carol.der], now())).ok, true);
    const result = await trustWith([afterRevocation]).check([carol.der], now());
    assert.equal(result.ok ? 'ok' : result.problem, 'revoked');
    // Others of the same CA are unaffected.
    assert.equal((await trustWith([afterRevocation]).check([card.der], now())).ok, true);
  });

  test('no current CRL: refused when revocation is required, accepted when the operator turned it off', async () => {
    const none = await trustWith([]).check([card.der], now());
    assert.equal(none.ok ? 'ok' : none.problem, 'revocation_unknown');
    assert.equal((await trustWith([], false).check([card.der], now())).ok, true);
    // A CRL past its next update proves nothing.
    const stale = ca.crl(1).der;
    const later = new Date(Date.now() + 2 * 3_600_000);
    const result = await trustWith([stale]).check([card.der], later);
    assert.equal(result.ok ? 'ok' : result.problem, 'revocation_unknown');
    // A CRL with the right name but signed by someone else is not the CA's.
    const impostor = pki.ca('Test Care Identity CA');
    const forgedCrl = impostor.crl().der;
    const forged = await trustWith([forgedCrl]).check([card.der], now());
    assert.equal(forged.ok ? 'ok' : forged.problem, 'revocation_unknown');
  });

  test('through an intermediate the card presents; without it: untrusted; a revoked intermediate: revoked', async () => {
    const intermediate = pki.ca('Test Issuing CA', { issuer: ca });
    const dave = intermediate.issue('dave', { email: 'dave@example.org' });
    const crls = [ca.crl().der, intermediate.crl().der];
    const trust = trustWith(crls);
    assert.equal((await trust.check([dave.der, pemToDer(intermediate.pem)], now())).ok, true);
    const without = await trust.check([dave.der], now());
    assert.equal(without.ok ? 'ok' : without.problem, 'untrusted');
    const asIssued = {
      name: 'intermediate',
      certFile: intermediate.certFile,
      keyFile: '',
      certPem: '',
      der: Buffer.alloc(0),
    };
    ca.revoke(asIssued);
    const revoked = await trustWith([ca.crl().der, intermediate.crl().der]).check(
      [dave.der, pemToDer(intermediate.pem)],
      now(),
    );
    assert.equal(revoked.ok ? 'ok' : revoked.problem, 'revoked');
  });

  test('a chain that loops (two CAs certifying each other) ends: untrusted', async () => {
    const a = pki.ca('Loop CA A');
    const b = pki.ca('Loop CA B');
    const aByB = b.crossCertify(a);
    const bByA = a.crossCertify(b);
    const leaf = a.issue('looped', { email: 'loop@example.org' });
    const result = await trustWith().check([leaf.der, aByB, bByA, aByB, bByA], now());
    assert.equal(result.ok ? 'ok' : result.problem, 'untrusted');
  });

  test('garbage, or an oversized certificate: invalid, before any parsing of the rest', async () => {
    const garbage = await trustWith().check([Buffer.from('not a certificate at all')], now());
    assert.deepEqual(garbage, { ok: false, problem: 'invalid', detail: 'unreadable' });
    const big = ca.issue('big', { email: 'big@example.org', padKilobytes: 20 });
    assert.ok(big.der.length > 16 * 1024, `the padded certificate is ${big.der.length} bytes`);
    const oversized = await trustWith().check([big.der], now());
    assert.deepEqual(oversized, { ok: false, problem: 'invalid', detail: 'too_large' });
    const pile = await trustWith().check(
      Array.from({ length: 50 }, () => card.der),
      now(),
    );
    assert.equal(pile.ok ? 'ok' : pile.problem, 'invalid');
  });
});
