import { createHash, randomBytes } from 'node:crypto';

/**
 * HTTP Digest as SIP uses it (RFC 3261 §22, RFC 2617, RFC 7616): MD5 or SHA-256, with or without
 * qop=auth. The password never leaves this function; only the hash is sent.
 */

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string | undefined;
  algorithm: 'MD5' | 'SHA-256';
  qop: 'auth' | undefined;
}

/** `Digest realm="…", nonce="…", qop="auth,auth-int"`: undefined for a scheme or algorithm not supported. */
export function parseDigestChallenge(header: string): DigestChallenge | undefined {
  const list = /^\s*Digest\s+(.*)$/is.exec(header)?.[1];
  if (list === undefined) return undefined;
  const params = new Map<string, string>();
  for (const [, name, value, quotedText] of list.matchAll(
    /([A-Za-z-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,]+)/g,
  )) {
    if (name === undefined || value === undefined) continue;
    params.set(name.toLowerCase(), quotedText !== undefined ? quotedText.replace(/\\(.)/g, '$1') : value);
  }
  const realm = params.get('realm');
  const nonce = params.get('nonce');
  const algorithm = (params.get('algorithm') ?? 'MD5').toUpperCase();
  if (realm === undefined || !nonce || (algorithm !== 'MD5' && algorithm !== 'SHA-256')) return undefined;
  const qops = params
    .get('qop')
    ?.split(',')
    .map((q) => q.trim().toLowerCase());
  // A server that offers qop but not "auth" (only auth-int) is not supported.
  if (qops && !qops.includes('auth')) return undefined;
  return { realm, nonce, opaque: params.get('opaque'), algorithm, qop: qops ? 'auth' : undefined };
}

export interface DigestInput {
  username: string;
  password: string;
  method: string;
  uri: string;
  /** For tests only: the client nonce (random otherwise). */
  cnonce?: string;
  nc?: number;
}

const hash = (algorithm: DigestChallenge['algorithm'], text: string) =>
  createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(text, 'utf8')
    .digest('hex');

/** The `response` value: H(H(A1):nonce[:nc:cnonce:qop]:H(A2)). */
export function digestResponse(
  challenge: DigestChallenge,
  input: DigestInput & { cnonce: string; nc: number },
) {
  const ha1 = hash(challenge.algorithm, `${input.username}:${challenge.realm}:${input.password}`);
  const ha2 = hash(challenge.algorithm, `${input.method}:${input.uri}`);
  const nc = input.nc.toString(16).padStart(8, '0');
  return challenge.qop
    ? hash(challenge.algorithm, `${ha1}:${challenge.nonce}:${nc}:${input.cnonce}:${challenge.qop}:${ha2}`)
    : hash(challenge.algorithm, `${ha1}:${challenge.nonce}:${ha2}`);
}

const quoted = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;

/** The Authorization (or Proxy-Authorization) header value answering `challenge`. */
export function digestAuthorization(challenge: DigestChallenge, input: DigestInput): string {
  const cnonce = input.cnonce ?? randomBytes(12).toString('hex');
  const nc = input.nc ?? 1;
  const response = digestResponse(challenge, { ...input, cnonce, nc });
  const parts = [
    `username=${quoted(input.username)}`,
    `realm=${quoted(challenge.realm)}`,
    `nonce=${quoted(challenge.nonce)}`,
    `uri=${quoted(input.uri)}`,
    `response=${quoted(response)}`,
    `algorithm=${challenge.algorithm}`,
  ];
  if (challenge.qop)
    parts.push(`qop=${challenge.qop}`, `nc=${nc.toString(16).padStart(8, '0')}`, `cnonce=${quoted(cnonce)}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${quoted(challenge.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}
