import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** RFC 2865 codes Gatehouse handles. */
export const ACCESS_REQUEST = 1;
export const ACCESS_ACCEPT = 2;
export const ACCESS_REJECT = 3;

export const USER_NAME = 1;
export const USER_PASSWORD = 2;
export const REPLY_MESSAGE = 18;
export const MESSAGE_AUTHENTICATOR = 80;

const HEADER = 20;
/** RFC 2865 section 3: a packet is 20 to 4096 octets. */
export const MAX_PACKET = 4096;

export interface RadiusPacket {
  code: number;
  id: number;
  authenticator: Buffer;
  attributes: { type: number; value: Buffer }[];
  /** The octets as received, up to the Length field (for Message-Authenticator). */
  raw: Buffer;
}

export class MalformedPacket extends Error {}

/** Parses a datagram; throws MalformedPacket for anything RFC 2865 says to silently discard. */
export function parsePacket(datagram: Buffer): RadiusPacket {
  if (datagram.length < HEADER || datagram.length > MAX_PACKET) throw new MalformedPacket('bad size');
  const length = datagram.readUInt16BE(2);
  // Octets past Length are padding and ignored; a Length longer than the datagram is discarded.
  if (length < HEADER || length > datagram.length) throw new MalformedPacket('bad length field');
  const raw = datagram.subarray(0, length);
  const attributes: RadiusPacket['attributes'] = [];
  for (let offset = HEADER; offset < length; ) {
    if (offset + 2 > length) throw new MalformedPacket('truncated attribute');
    const type = raw.readUInt8(offset);
    const attributeLength = raw.readUInt8(offset + 1);
    if (attributeLength < 2 || offset + attributeLength > length)
      throw new MalformedPacket('bad attribute length');
    attributes.push({ type, value: raw.subarray(offset + 2, offset + attributeLength) });
    offset += attributeLength;
  }
  return {
    code: raw.readUInt8(0),
    id: raw.readUInt8(1),
    authenticator: raw.subarray(4, 20),
    attributes,
    raw,
  };
}

export const attribute = (packet: RadiusPacket, type: number) =>
  packet.attributes.find((a) => a.type === type)?.value;

/** RFC 2865 5.2: User-Password, hidden with the shared secret and the Request Authenticator. */
export function decryptPassword(hidden: Buffer, secret: Buffer, requestAuthenticator: Buffer): string {
  if (hidden.length === 0 || hidden.length % 16 !== 0 || hidden.length > 128)
    throw new MalformedPacket('bad User-Password');
  const plain = Buffer.alloc(hidden.length);
  let previous = requestAuthenticator;
  for (let i = 0; i < hidden.length; i += 16) {
    const key = createHash('md5').update(secret).update(previous).digest();
    for (let j = 0; j < 16; j++) plain[i + j] = hidden.readUInt8(i + j) ^ key.readUInt8(j);
    previous = hidden.subarray(i, i + 16);
  }
  const end = plain.indexOf(0);
  return plain.subarray(0, end === -1 ? plain.length : end).toString('utf8');
}

/** RFC 3579 3.2: HMAC-MD5 over the packet with the Message-Authenticator's value zeroed. */
export function messageAuthenticatorValid(packet: RadiusPacket, secret: Buffer): boolean {
  const copy = Buffer.from(packet.raw);
  let offset = HEADER;
  let received: Buffer | undefined;
  while (offset < copy.length) {
    const type = copy.readUInt8(offset);
    const length = copy.readUInt8(offset + 1);
    if (type === MESSAGE_AUTHENTICATOR) {
      if (length !== 18) return false;
      received = Buffer.from(copy.subarray(offset + 2, offset + 18));
      copy.fill(0, offset + 2, offset + 18);
    }
    offset += length;
  }
  if (!received) return false;
  const expected = createHmac('md5', secret).update(copy).digest();
  return timingSafeEqual(expected, received);
}

/**
 * An Access-Accept or Access-Reject: Message-Authenticator first (the BlastRADIUS advice), a
 * Reply-Message in words, then the Response Authenticator over it all.
 */
export function encodeResponse(
  code: number,
  request: RadiusPacket,
  secret: Buffer,
  replyMessage: string,
): Buffer {
  const message = Buffer.from(replyMessage, 'utf8').subarray(0, 253);
  const attributes = Buffer.concat([
    Buffer.from([MESSAGE_AUTHENTICATOR, 18]),
    Buffer.alloc(16),
    Buffer.from([REPLY_MESSAGE, message.length + 2]),
    message,
  ]);
  const packet = Buffer.concat([Buffer.from([code, request.id, 0, 0]), request.authenticator, attributes]);
  packet.writeUInt16BE(packet.length, 2);
  // Message-Authenticator of a response is computed with the Request Authenticator in place.
  createHmac('md5', secret)
    .update(packet)
    .digest()
    .copy(packet, HEADER + 2);
  const responseAuthenticator = createHash('md5').update(packet).update(secret).digest();
  responseAuthenticator.copy(packet, 4);
  return packet;
}
