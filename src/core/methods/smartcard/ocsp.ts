import { createHash, X509Certificate as NodeCertificate, verify } from 'node:crypto';
import {
  BasicOCSPResponse,
  CertID,
  id_pkix_ocsp_basic,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  TBSRequest,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import { x509 } from './x509.ts';

/** Sends a DER OCSP request to a responder and returns its DER answer; I/O, so given by the caller. */
export type OcspTransport = (url: string, request: Uint8Array) => Promise<Uint8Array>;

export type OcspVerdict = 'good' | 'revoked' | 'unknown';

const SHA1 = '1.3.14.3.2.26';
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
/** A responder's clock may be a little ahead of ours. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** Signature algorithms by OID, as node:crypto names their digest (RSA PKCS#1 v1.5 and ECDSA). */
const DIGESTS: Record<string, string> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};

const sha1 = (bytes: ArrayBuffer | Uint8Array) => createHash('sha1').update(new Uint8Array(bytes)).digest();
const hex = (bytes: ArrayBuffer | Uint8Array) =>
  Buffer.from(new Uint8Array(bytes))
    .toString('hex')
    .replace(/^(00)+/, '');

/** The responders the certificate names (Authority Information Access, OCSP). */
export function ocspResponders(certificate: x509.X509Certificate): string[] {
  const access = certificate.getExtension(x509.AuthorityInfoAccessExtension);
  return (access?.ocsp ?? []).filter((name) => name.type === 'url').map((name) => name.value);
}

/** RFC 6960 4.1.1: which certificate we ask about, by its issuer's name and key hashes and its serial. */
export function certId(subjectDer: Uint8Array, issuerDer: Uint8Array): CertID {
  const subject = AsnConvert.parse(subjectDer, Certificate);
  const issuer = AsnConvert.parse(issuerDer, Certificate);
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1 }),
    issuerNameHash: new OctetString(sha1(AsnConvert.serialize(issuer.tbsCertificate.subject))),
    issuerKeyHash: new OctetString(sha1(issuer.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey)),
    serialNumber: subject.tbsCertificate.serialNumber,
  });
}

export function ocspRequest(id: CertID): Uint8Array {
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: id })] }),
  });
  return new Uint8Array(AsnConvert.serialize(request));
}

/**
 * What the response says of the certificate, believed only when signed by the issuer itself or by
 * a responder the issuer certified for OCSP signing, and current. Anything else is `unknown`.
 */
export function ocspVerdict(
  responseDer: Uint8Array,
  id: CertID,
  issuerDer: Uint8Array,
  now: Date,
): OcspVerdict {
  const response = AsnConvert.parse(responseDer, OCSPResponse);
  if (response.responseStatus !== OCSPResponseStatus.successful || !response.responseBytes) return 'unknown';
  if (response.responseBytes.responseType !== id_pkix_ocsp_basic) return 'unknown';
  const basic = AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse);
  const signed = basic.tbsResponseDataRaw ?? AsnConvert.serialize(basic.tbsResponseData);
  const digest = DIGESTS[basic.signatureAlgorithm.algorithm];
  if (!digest) return 'unknown';
  const issuer = new NodeCertificate(issuerDer);
  const signers = [
    issuer,
    ...(basic.certs ?? []).map((c) => delegatedResponder(c, issuer, now)).filter((c) => c !== undefined),
  ];
  const genuine = signers.some((signer) => {
    try {
      return verify(digest, new Uint8Array(signed), signer.publicKey, new Uint8Array(basic.signature));
    } catch {
      return false;
    }
  });
  if (!genuine) return 'unknown';
  const single = basic.tbsResponseData.responses.find(
    (r) =>
      hex(r.certID.serialNumber) === hex(id.serialNumber) &&
      hex(r.certID.issuerNameHash.buffer) === hex(id.issuerNameHash.buffer) &&
      hex(r.certID.issuerKeyHash.buffer) === hex(id.issuerKeyHash.buffer),
  );
  if (!single) return 'unknown';
  if (single.thisUpdate.getTime() > now.getTime() + CLOCK_SKEW_MS) return 'unknown';
  if (single.nextUpdate && single.nextUpdate.getTime() < now.getTime()) return 'unknown';
  if (single.certStatus.revoked) return 'revoked';
  return single.certStatus.good !== undefined ? 'good' : 'unknown';
}

/** A responder certificate in the response, accepted only if the issuer made it for OCSP signing. */
function delegatedResponder(
  certificate: Certificate,
  issuer: NodeCertificate,
  now: Date,
): NodeCertificate | undefined {
  try {
    const der = new Uint8Array(AsnConvert.serialize(certificate));
    const node = new NodeCertificate(der);
    const usages = new x509.X509Certificate(der).getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [];
    const inDate = Date.parse(node.validFrom) <= now.getTime() && now.getTime() <= Date.parse(node.validTo);
    const certified = node.checkIssued(issuer) && node.verify(issuer.publicKey);
    return inDate && certified && usages.map(String).includes(OCSP_SIGNING) ? node : undefined;
  } catch {
    return undefined;
  }
}
