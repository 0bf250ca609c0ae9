import { createHash } from 'node:crypto';
import { x509 } from './x509.ts';

/** Smartcard certificates are a few kilobytes; anything far larger is refused before parsing. */
export const MAX_CERTIFICATE_BYTES = 16 * 1024;
/** Leaf, intermediates and root: real card hierarchies have three or four. */
export const MAX_CHAIN_LENGTH = 6;

/** What the portal shows and keeps of a certificate: names and dates, never the key. */
export interface CertificateSummary {
  subject: string;
  /** The common name of the subject, for people ("Alice Smartcard"). */
  commonName: string;
  issuer: string;
  /** Upper-case hexadecimal. */
  serial: string;
  /** SHA-256 of the DER, upper-case hexadecimal with colons, as `openssl x509 -fingerprint` prints it. */
  fingerprint: string;
  notBefore: string;
  notAfter: string;
  /** rfc822Name entries of the subject alternative name. */
  emails: string[];
  /** Microsoft user principal names (otherName 1.3.6.1.4.1.311.20.2.3) of the subject alternative name. */
  upns: string[];
}

export function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256')
    .update(der)
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
}

export function summarise(certificate: x509.X509Certificate): CertificateSummary {
  const names = certificate.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const commonName = certificate.subjectName.getField('CN')[0] ?? certificate.subject;
  return {
    subject: certificate.subject,
    commonName,
    issuer: certificate.issuer,
    serial: certificate.serialNumber.toUpperCase(),
    fingerprint: fingerprintOf(new Uint8Array(certificate.rawData)),
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    emails: names.filter((n) => n.type === 'email').map((n) => n.value.toLowerCase()),
    upns: names.filter((n) => n.type === 'upn').map((n) => n.value.toLowerCase()),
  };
}
