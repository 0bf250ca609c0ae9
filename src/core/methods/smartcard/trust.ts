import { X509Certificate as NodeCertificate } from 'node:crypto';
import {
  type CertificateSummary,
  MAX_CERTIFICATE_BYTES,
  MAX_CHAIN_LENGTH,
  summarise,
} from './certificate.ts';
import { certId, type OcspTransport, ocspRequest, ocspResponders, ocspVerdict } from './ocsp.ts';
import { x509 } from './x509.ts';

/** Why a presented certificate was not accepted; each has its own message for people. */
export type CertificateProblem =
  | 'missing'
  | 'invalid'
  | 'untrusted'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_usage'
  | 'revoked'
  | 'revocation_unknown';

export type CertificateCheck =
  | { ok: true; certificate: CertificateSummary }
  | { ok: false; problem: CertificateProblem; certificate?: CertificateSummary; detail?: string };

/** Client authentication, and Microsoft's smartcard logon that many card issuers use instead. */
const SIGN_IN_USAGES = new Set<string>([x509.ExtendedKeyUsage.clientAuth, '1.3.6.1.4.1.311.20.2.2']);

interface Parsed {
  der: Uint8Array;
  node: NodeCertificate;
  cert: x509.X509Certificate;
}

function parse(der: Uint8Array): Parsed | undefined {
  try {
    return { der, node: new NodeCertificate(der), cert: new x509.X509Certificate(new Uint8Array(der)) };
  } catch {
    return undefined;
  }
}

/** Did `issuer` sign `subject`? Names and key identifiers first, then the signature itself. */
function issued(issuer: Parsed, subject: Parsed): boolean {
  try {
    return subject.node.checkIssued(issuer.node) && subject.node.verify(issuer.node.publicKey);
  } catch {
    return false;
  }
}

function isCa(parsed: Parsed): boolean {
  return parsed.cert.getExtension(x509.BasicConstraintsExtension)?.ca === true;
}

/**
 * The rules a smartcard certificate must pass (RFC 5280, simplified to what card sign-in needs):
 * a path to one of the operator's trusted CAs, every certificate in date, a leaf made for client
 * authentication, and nothing on the path revoked by its issuer's current CRL. Used both for
 * certificates from our own TLS handshake and for those a trusted proxy passes on, so both get
 * the same rules and the same messages.
 */
export class CertificateTrust {
  private readonly anchors: Parsed[];
  private crls: x509.X509Crl[] = [];
  /** CRLs whose signature was checked, by CRL and issuer fingerprint: checked once each. */
  private readonly verifiedCrls = new WeakMap<x509.X509Crl, Map<string, boolean>>();

  constructor(
    anchorsDer: Uint8Array[],
    private readonly options: {
      revocationRequired: boolean;
      /** Ask the responder a certificate names (OCSP) before the CRL; only when the operator allows it. */
      ocsp?: OcspTransport | undefined;
    },
  ) {
    this.anchors = anchorsDer.map((der) => {
      const parsed = parse(der);
      if (!parsed) throw new Error('a trusted CA certificate could not be read');
      return parsed;
    });
    if (this.anchors.length === 0) throw new Error('no trusted CA certificate was given');
  }

  /** The CA names, for the TLS CertificateRequest: browsers then offer only cards these issued. */
  get anchorCertificates(): Uint8Array[] {
    return this.anchors.map((a) => a.der);
  }

  /** Replaces the revocation lists (a refresh). Returns how many could be read. */
  setRevocationLists(crlsDer: Uint8Array[]): number {
    const crls: x509.X509Crl[] = [];
    for (const der of crlsDer) {
      try {
        crls.push(new x509.X509Crl(new Uint8Array(der)));
      } catch {
        // An unreadable list is skipped; certificates it would cover then fail as revocation_unknown.
      }
    }
    this.crls = crls;
    return crls.length;
  }

  async check(chainDer: Uint8Array[], now: Date): Promise<CertificateCheck> {
    const [leafDer, ...presented] = chainDer;
    if (!leafDer || leafDer.length === 0) return { ok: false, problem: 'missing' };
    if (chainDer.length > MAX_CHAIN_LENGTH * 2 || chainDer.some((der) => der.length > MAX_CERTIFICATE_BYTES))
      return { ok: false, problem: 'invalid', detail: 'too_large' };
    const leaf = parse(leafDer);
    if (!leaf) return { ok: false, problem: 'invalid', detail: 'unreadable' };
    const certificate = summarise(leaf.cert);
    const refuse = (problem: CertificateProblem, detail?: string): CertificateCheck => ({
      ok: false,
      problem,
      certificate,
      ...(detail ? { detail } : {}),
    });

    const usage = this.usageProblem(leaf);
    if (usage) return refuse('wrong_usage', usage);
    const intermediates = presented.map(parse).filter((p): p is Parsed => p !== undefined);
    const path = this.pathToAnchor(leaf, intermediates);
    if (!path) return refuse('untrusted');

    for (const link of path) {
      if (now < link.cert.notBefore) return refuse('not_yet_valid', link === leaf ? 'leaf' : 'issuer');
      if (now > link.cert.notAfter) return refuse('expired', link === leaf ? 'leaf' : 'issuer');
    }
    // Every certificate but the anchor is checked against the CRL its issuer signed.
    for (let i = 0; i < path.length - 1; i++) {
      const revocation = await this.revocationStatus(path[i] as Parsed, path[i + 1] as Parsed, now);
      if (revocation) return refuse(revocation, i === 0 ? 'leaf' : 'issuer');
    }
    return { ok: true, certificate };
  }

  private usageProblem(leaf: Parsed): string | undefined {
    if (isCa(leaf)) return 'ca_certificate';
    const eku = leaf.cert.getExtension(x509.ExtendedKeyUsageExtension);
    if (!eku?.usages.some((u) => SIGN_IN_USAGES.has(String(u)))) return 'not_client_authentication';
    const keyUsage = leaf.cert.getExtension(x509.KeyUsagesExtension);
    if (keyUsage && !(keyUsage.usages & x509.KeyUsageFlags.digitalSignature)) return 'no_digital_signature';
    return undefined;
  }

  /**
   * Leaf, intermediates..., anchor; undefined when no path exists. Each certificate is used at
   * most once and the path is bounded, so a chain that loops, or a pile of certificates, ends.
   */
  private pathToAnchor(leaf: Parsed, intermediates: Parsed[]): Parsed[] | undefined {
    const path = [leaf];
    const used = new Set<Parsed>();
    let current = leaf;
    while (path.length < MAX_CHAIN_LENGTH) {
      const anchor = this.anchors.find((a) => issued(a, current));
      if (anchor) return [...path, anchor];
      const next = intermediates.find((i) => !used.has(i) && isCa(i) && issued(i, current));
      if (!next) return undefined;
      used.add(next);
      path.push(next);
      current = next;
    }
    return undefined;
  }

  private async revocationStatus(
    subject: Parsed,
    issuer: Parsed,
    now: Date,
  ): Promise<'revoked' | 'revocation_unknown' | undefined> {
    const answered = await this.askResponders(subject, issuer, now);
    if (answered === 'revoked') return 'revoked';
    if (answered === 'good') return undefined;
    const candidates = this.crls.filter((crl) => crl.issuer === subject.cert.issuer);
    for (const crl of candidates) {
      if (!(await this.signedBy(crl, issuer))) continue;
      // A list past its next update may miss recent revocations: it proves nothing.
      if (crl.nextUpdate && now > crl.nextUpdate) continue;
      return crl.findRevoked(subject.cert) ? 'revoked' : undefined;
    }
    return this.options.revocationRequired ? 'revocation_unknown' : undefined;
  }

  /** The first definite OCSP answer; `unknown` when none is asked, reachable, genuine and current. */
  private async askResponders(subject: Parsed, issuer: Parsed, now: Date) {
    const transport = this.options.ocsp;
    if (!transport) return 'unknown';
    for (const url of ocspResponders(subject.cert)) {
      try {
        const id = certId(subject.der, issuer.der);
        const verdict = ocspVerdict(await transport(url, ocspRequest(id)), id, issuer.der, now);
        if (verdict !== 'unknown') return verdict;
      } catch {
        // An unreachable responder or a garbled answer: the CRL decides.
      }
    }
    return 'unknown';
  }

  private async signedBy(crl: x509.X509Crl, issuer: Parsed): Promise<boolean> {
    let byIssuer = this.verifiedCrls.get(crl);
    if (!byIssuer) {
      byIssuer = new Map();
      this.verifiedCrls.set(crl, byIssuer);
    }
    const key = issuer.node.fingerprint256;
    let verified = byIssuer.get(key);
    if (verified === undefined) {
      verified = await crl.verify({ publicKey: issuer.cert }).catch(() => false);
      byIssuer.set(key, verified);
    }
    return verified;
  }
}
