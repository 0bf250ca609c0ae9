/** Just enough BER (X.690) for LDAPv3 messages: tag, definite length, value. */

export interface Tlv {
  tag: number;
  value: Buffer;
}

export class BerError extends Error {}

/** Reads one TLV at `offset`; null when the buffer does not hold all of it yet. */
export function readTlv(
  buffer: Buffer,
  offset = 0,
  maxLength = Number.MAX_SAFE_INTEGER,
): { tlv: Tlv; end: number } | null {
  if (offset + 2 > buffer.length) return null;
  const tag = buffer.readUInt8(offset);
  if ((tag & 0x1f) === 0x1f) throw new BerError('high tag numbers are not used by LDAP');
  let length = buffer.readUInt8(offset + 1);
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4) throw new BerError('indefinite or oversized length');
    if (start + octets > buffer.length) return null;
    length = 0;
    for (const octet of buffer.subarray(start, start + octets)) length = length * 256 + octet;
    start += octets;
  }
  // A declared length over the limit is refused at once, not waited for.
  if (length > maxLength) throw new BerError('message too large');
  if (start + length > buffer.length) return null;
  return { tlv: { tag, value: buffer.subarray(start, start + length) }, end: start + length };
}

/** The TLVs inside a constructed value; throws on anything left over or cut short. */
export function children(value: Buffer): Tlv[] {
  const items: Tlv[] = [];
  for (let offset = 0; offset < value.length; ) {
    const next = readTlv(value, offset);
    if (!next) throw new BerError('truncated element');
    items.push(next.tlv);
    offset = next.end;
  }
  return items;
}

export function readInteger(tlv: Tlv | undefined): number {
  if (!tlv || tlv.value.length === 0 || tlv.value.length > 4) throw new BerError('bad integer');
  // Two's complement: a first octet with its high bit set makes the number negative.
  let n = tlv.value.readUInt8(0) & 0x80 ? -1 : 0;
  for (const byte of tlv.value) n = n * 256 + byte;
  return n;
}

export const readString = (tlv: Tlv | undefined): string => {
  if (!tlv) throw new BerError('missing string');
  return tlv.value.toString('utf8');
};

function lengthOctets(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, value: Buffer | Buffer[]): Buffer {
  const body = Array.isArray(value) ? Buffer.concat(value) : value;
  return Buffer.concat([Buffer.from([tag]), lengthOctets(body.length), body]);
}

export function integer(tag: number, n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  const body = Buffer.from(bytes);
  // A leading 0 keeps a high first bit from reading as a negative number.
  return tlv(tag, body.readUInt8(0) & 0x80 ? Buffer.concat([Buffer.of(0), body]) : body);
}

export const octets = (tag: number, text: string) => tlv(tag, Buffer.from(text, 'utf8'));

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  octetString: 0x04,
  enumerated: 0x0a,
  sequence: 0x30,
  set: 0x31,
} as const;
