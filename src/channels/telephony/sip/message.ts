/**
 * SIP messages (RFC 3261 §7) read and written as text. Parsing is defensive: anything larger than
 * a call needs, or not shaped like SIP, is undefined and the packet is dropped.
 */

export const MAX_MESSAGE_BYTES = 8192;
const MAX_HEADERS = 80;

/** RFC 3261 §7.3.3 compact forms. */
const COMPACT: Record<string, string> = {
  i: 'call-id',
  f: 'from',
  t: 'to',
  v: 'via',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
};

interface Common {
  /** Lower-case names, values in order of appearance; comma-joined values are not split. */
  headers: Map<string, string[]>;
  body: string;
}
export type SipRequest = Common & { kind: 'request'; method: string; uri: string };
export type SipResponse = Common & { kind: 'response'; status: number; reason: string };
export type SipMessage = SipRequest | SipResponse;

export function parseMessage(packet: Buffer): SipMessage | undefined {
  if (packet.length === 0 || packet.length > MAX_MESSAGE_BYTES) return undefined;
  const text = packet.toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) return undefined;
  const [start, ...headerLines] = text.slice(0, split).split('\r\n');
  if (start === undefined || headerLines.length > MAX_HEADERS) return undefined;
  const headers = new Map<string, string[]>();
  let lastValues: string[] | undefined;
  for (const line of headerLines) {
    if (/^[ \t]/.test(line) && lastValues) {
      // A folded header continues the previous one.
      lastValues[lastValues.length - 1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const raw = line.slice(0, colon).trim().toLowerCase();
    if (!/^[a-z0-9!%*_+`'~.-]+$/.test(raw)) return undefined;
    const name = COMPACT[raw] ?? raw;
    const values = headers.get(name) ?? [];
    values.push(line.slice(colon + 1).trim());
    headers.set(name, values);
    lastValues = values;
  }
  const bodyBytes = Buffer.from(text.slice(split + 4), 'utf8');
  const declared = headers.get('content-length')?.[0];
  const length = declared === undefined ? bodyBytes.length : Number(declared);
  if (!Number.isInteger(length) || length < 0 || length > bodyBytes.length) return undefined;
  const body = bodyBytes.subarray(0, length).toString('utf8');
  const [, status, reason] = /^SIP\/2\.0 ([1-6]\d\d) ?(.*)$/.exec(start) ?? [];
  if (status !== undefined && reason !== undefined)
    return { kind: 'response', status: Number(status), reason, headers, body };
  const [, method, uri] = /^([A-Z]{2,16}) (\S{1,1024}) SIP\/2\.0$/.exec(start) ?? [];
  if (method !== undefined && uri !== undefined) return { kind: 'request', method, uri, headers, body };
  return undefined;
}

export const header = (message: SipMessage, name: string) => message.headers.get(name)?.[0];

/** `tag` (or another parameter) of a From/To/Via value. */
export function parameter(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  // Parameters follow the URI's closing ">" when there is one.
  const params = value.includes('>') ? value.slice(value.lastIndexOf('>') + 1) : value;
  const match = new RegExp(`;\\s*${name}=([^;,\\s>]+)`, 'i').exec(params);
  return match?.[1];
}

/** The CSeq number and method, e.g. "2 INVITE". */
export function cseqOf(message: SipMessage): { number: number; method: string } | undefined {
  const [, number, method] = /^(\d{1,10})\s+([A-Z]+)$/.exec(header(message, 'cseq') ?? '') ?? [];
  return number !== undefined && method !== undefined ? { number: Number(number), method } : undefined;
}

/** The URI inside a name-addr (`"Name" <sip:…>;tag=x`) or an addr-spec alone. */
export function uriOf(value: string): string {
  const inAngles = /<([^>]*)>/.exec(value)?.[1];
  // An addr-spec alone ends where its parameters begin.
  return (inAngles ?? value.replace(/;.*$/s, '')).trim();
}

/** Where a SIP URI points: host and port (5060 by default); undefined for other schemes. */
export function hostPortOf(uri: string): { host: string; port: number } | undefined {
  const [, host, portText] = /^sips?:(?:[^@]*@)?(\[[0-9A-Fa-f:.]+\]|[^:;>?]+)(?::(\d{1,5}))?/.exec(uri) ?? [];
  if (host === undefined) return undefined;
  const port = Number(portText ?? 5060);
  if (port < 1 || port > 65535) return undefined;
  return { host: host.replace(/^\[|\]$/g, ''), port };
}

/** A request or response as text, Content-Length computed. */
export function serialize(startLine: string, headers: [string, string][], body = ''): string {
  const lines = [startLine, ...headers.map(([name, value]) => `${name}: ${value}`)];
  lines.push(`Content-Length: ${Buffer.byteLength(body, 'utf8')}`, '', body);
  return lines.join('\r\n');
}

/** The headers a response copies from its request: stored name, then the name as written. */
const COPIED_HEADERS = [
  ['via', 'Via'],
  ['from', 'From'],
  ['to', 'To'],
  ['call-id', 'Call-ID'],
  ['cseq', 'CSeq'],
] as const;

/** A response to `request`, its Via, From, To, Call-ID and CSeq copied as RFC 3261 §8.2.6 says. */
export function responseTo(
  request: SipRequest,
  status: number,
  reason: string,
  extra: [string, string][] = [],
) {
  const copied: [string, string][] = [];
  for (const [name, display] of COPIED_HEADERS) {
    for (const value of request.headers.get(name) ?? []) copied.push([display, value]);
  }
  return serialize(`SIP/2.0 ${status} ${reason}`, [...copied, ...extra]);
}
