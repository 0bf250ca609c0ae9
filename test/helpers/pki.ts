import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Certificates made with openssl for the smartcard tests: CAs, cards (with SAN email or UPN),
 * expired, not yet valid and revoked ones, CRLs, and a server certificate for the endpoint.
 */
const openssl = (args: string[], cwd: string, env: Record<string, string> = {}) =>
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });

const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

export interface IssuedCertificate {
  name: string;
  certFile: string;
  keyFile: string;
  certPem: string;
  der: Buffer;
}

export interface CardOptions {
  commonName?: string;
  email?: string;
  upn?: string;
  /** openssl dates, YYYYMMDDHHMMSSZ. */
  startDate?: string;
  endDate?: string;
  usage?: 'clientAuth' | 'serverAuth' | 'smartcardLogon' | 'ocspSigning';
  /** Extra bytes in the certificate (many DNS names), to make an oversized one. */
  padKilobytes?: number;
  /** An IP or DNS subject alternative name, for a server certificate. */
  serverName?: string;
  /** The OCSP responder the certificate names (Authority Information Access). */
  ocspUrl?: string;
}

export class TestCa {
  readonly certFile: string;
  readonly keyFile: string;
  private readonly config: string;

  constructor(
    readonly dir: string,
    readonly name: string,
    options: { issuer?: TestCa; startDate?: string; endDate?: string } = {},
  ) {
    mkdirSync(join(dir, 'newcerts'), { recursive: true });
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(
      join(dir, 'serial'),
      `${(0x10000000 + Math.floor(Math.random() * 0x6fffffff)).toString(16)}\n`,
    );
    writeFileSync(join(dir, 'crlnumber'), '01\n');
    this.certFile = join(dir, 'ca.crt');
    this.keyFile = join(dir, 'ca.key');
    this.config = join(dir, 'ca.cnf');
    writeFileSync(
      this.config,
      `[ ca ]
default_ca = ca_default
[ ca_default ]
dir = ${dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 30
default_crl_days = 7
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
organizationName = optional
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`,
    );
    const subject = `/CN=${name}/O=Gatehouse Tests`;
    if (!options.issuer) {
      openssl(
        [
          'req',
          '-x509',
          ...newKey,
          '-keyout',
          this.keyFile,
          '-out',
          this.certFile,
          '-days',
          '30',
          '-subj',
          subject,
          '-addext',
          'basicConstraints=critical,CA:TRUE',
          '-addext',
          'keyUsage=critical,keyCertSign,cRLSign',
        ],
        dir,
      );
    } else {
      openssl(
        ['req', '-new', ...newKey, '-keyout', this.keyFile, '-out', join(dir, 'ca.csr'), '-subj', subject],
        dir,
      );
      options.issuer.sign(join(dir, 'ca.csr'), this.certFile, 'ca_ext', undefined, options);
    }
  }

  get pem(): string {
    return readFileSync(this.certFile, 'utf8');
  }

  /** Signs a request with this CA through `openssl ca`, which keeps the index the CRL is made from. */
  sign(
    csr: string,
    out: string,
    extensions: string,
    extFile?: string,
    dates: { startDate?: string; endDate?: string } = {},
  ) {
    openssl(
      [
        'ca',
        '-batch',
        '-notext',
        '-config',
        this.config,
        '-in',
        csr,
        '-out',
        out,
        '-extensions',
        extensions,
        ...(extFile ? ['-extfile', extFile] : []),
        ...(dates.startDate ? ['-startdate', dates.startDate] : []),
        ...(dates.endDate ? ['-enddate', dates.endDate] : []),
      ],
      this.dir,
    );
  }

  issue(name: string, options: CardOptions = {}): IssuedCertificate {
    const base = join(this.dir, name);
    const usage = {
      clientAuth: 'clientAuth',
      serverAuth: 'serverAuth',
      smartcardLogon: '1.3.6.1.4.1.311.20.2.2',
      ocspSigning: 'OCSPSigning',
    }[options.usage ?? 'clientAuth'];
    const names = [
      ...(options.email ? [`email.1 = ${options.email}`] : []),
      ...(options.upn ? [`otherName.1 = 1.3.6.1.4.1.311.20.2.3;UTF8:${options.upn}`] : []),
      ...(options.serverName ? [`IP.1 = ${options.serverName}`, 'DNS.1 = localhost'] : []),
      ...Array.from(
        { length: (options.padKilobytes ?? 0) * 16 },
        (_, i) => `DNS.${i + 2} = padding-${i}-${'x'.repeat(40)}.example`,
      ),
    ];
    writeFileSync(
      `${base}.ext`,
      `[ ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature${options.usage === 'serverAuth' ? ',keyEncipherment' : ''}
extendedKeyUsage = ${usage}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
${options.ocspUrl ? `authorityInfoAccess = OCSP;URI:${options.ocspUrl}\n` : ''}${names.length ? `subjectAltName = @names\n[ names ]\n${names.join('\n')}` : ''}
`,
    );
    openssl(
      [
        'req',
        '-new',
        ...newKey,
        '-keyout',
        `${base}.key`,
        '-out',
        `${base}.csr`,
        '-subj',
        `/CN=${options.commonName ?? name}/O=Gatehouse Tests`,
      ],
      this.dir,
    );
    this.sign(`${base}.csr`, `${base}.crt`, 'ext', `${base}.ext`, options);
    const certPem = readFileSync(`${base}.crt`, 'utf8');
    return { name, certFile: `${base}.crt`, keyFile: `${base}.key`, certPem, der: pemToDer(certPem) };
  }

  /** A CA certificate for `subject`'s own key and name, signed by this CA (cross-certification). */
  crossCertify(subject: TestCa): Buffer {
    const csr = join(this.dir, `cross-${subject.name.replace(/\W+/g, '-')}.csr`);
    const out = `${csr}.crt`;
    openssl(
      ['req', '-new', '-key', subject.keyFile, '-out', csr, '-subj', `/CN=${subject.name}/O=Gatehouse Tests`],
      this.dir,
    );
    this.sign(csr, out, 'ca_ext');
    return pemToDer(readFileSync(out, 'utf8'));
  }

  /**
   * `openssl ocsp` answering for this CA from its index (it rereads the index when it changes),
   * signed by the CA or by a delegated responder certificate.
   */
  async ocspResponder(port: number, signer?: IssuedCertificate): Promise<{ url: string; stop(): void }> {
    const child = spawn(
      'openssl',
      [
        'ocsp',
        '-index',
        join(this.dir, 'index.txt'),
        '-port',
        String(port),
        '-CA',
        this.certFile,
        '-rsigner',
        signer?.certFile ?? this.certFile,
        '-rkey',
        signer?.keyFile ?? this.keyFile,
        '-nmin',
        '5',
        '-ignore_err',
      ],
      { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const url = `http://127.0.0.1:${port}`;
    // Ready when it says so. (A probe connection would hold this one-at-a-time responder up.)
    await new Promise<void>((resolve, reject) => {
      let said = '';
      const listen = (chunk: Buffer) => {
        said += chunk.toString();
        if (said.includes('waiting for OCSP client connections')) resolve();
      };
      child.stdout.on('data', listen);
      child.stderr.on('data', listen);
      child.on('exit', () => reject(new Error(`openssl ocsp stopped: ${said}`)));
    });
    return { url, stop: () => child.kill() };
  }

  revoke(certificate: IssuedCertificate): void {
    openssl(['ca', '-config', this.config, '-revoke', certificate.certFile], this.dir);
  }

  /** The CRL of everything revoked so far, as PEM; `hours` until its next update. */
  crl(hours = 24 * 7): { file: string; pem: string; der: Buffer } {
    const file = join(this.dir, `crl-${Date.now()}-${Math.random().toString(16).slice(2)}.pem`);
    openssl(['ca', '-config', this.config, '-gencrl', '-crlhours', String(hours), '-out', file], this.dir);
    const pem = readFileSync(file, 'utf8');
    return { file, pem, der: Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64') };
  }

  /** A PKCS#12 file of the certificate and key (for NSS), password `test`. */
  pkcs12(certificate: IssuedCertificate): string {
    const file = join(this.dir, `${certificate.name}.p12`);
    openssl(
      [
        'pkcs12',
        '-export',
        '-in',
        certificate.certFile,
        '-inkey',
        certificate.keyFile,
        '-certfile',
        this.certFile,
        '-name',
        certificate.name,
        '-out',
        file,
        '-passout',
        'pass:test',
      ],
      this.dir,
    );
    return file;
  }
}

export function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
}

/** openssl's date form for a time `days` from now (negative: in the past). */
export function opensslDate(days: number): string {
  return `${new Date(Date.now() + days * 86_400_000).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}

/** A folder for one test's PKI; `remove()` when done. */
export function pkiFolder(): {
  dir: string;
  ca(name: string, options?: ConstructorParameters<typeof TestCa>[2]): TestCa;
  remove(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pki-'));
  let count = 0;
  return {
    dir,
    // A folder of its own for each CA, even for two with one name (an impostor).
    ca: (name, options) =>
      new TestCa(join(dir, `${++count}-${name.replace(/\W+/g, '-').toLowerCase()}`), name, options),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
