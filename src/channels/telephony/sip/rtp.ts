/** RTP (RFC 3550) packets, and the key presses carried in them as telephone-events (RFC 4733). */

export interface RtpHeader {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
}

export function buildRtp(header: RtpHeader, payload: Buffer): Buffer {
  const packet = Buffer.alloc(12 + payload.length);
  packet[0] = 0x80; // version 2, no padding, no extension, no CSRC
  packet[1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
  packet.writeUInt16BE(header.sequence & 0xffff, 2);
  packet.writeUInt32BE(header.timestamp >>> 0, 4);
  packet.writeUInt32BE(header.ssrc >>> 0, 8);
  payload.copy(packet, 12);
  return packet;
}

/** A received packet, or undefined when it is not RTP version 2 or its lengths do not add up. */
export function parseRtp(packet: Buffer): (RtpHeader & { payload: Buffer }) | undefined {
  if (packet.length < 12) return undefined;
  const first = packet.readUInt8(0);
  const second = packet.readUInt8(1);
  if (first >> 6 !== 2) return undefined;
  const csrcCount = first & 0x0f;
  let offset = 12 + 4 * csrcCount;
  if (first & 0x10) {
    if (packet.length < offset + 4) return undefined;
    offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  }
  let end = packet.length;
  // Padding: its last octet counts the padding octets, itself included.
  if (first & 0x20) end -= packet.readUInt8(packet.length - 1);
  if (offset > end) return undefined;
  return {
    payloadType: second & 0x7f,
    marker: (second & 0x80) !== 0,
    sequence: packet.readUInt16BE(2),
    timestamp: packet.readUInt32BE(4),
    ssrc: packet.readUInt32BE(8),
    payload: packet.subarray(offset, end),
  };
}

/** RFC 4733 §3.2 DTMF events 0-15: 0-9, *, #, A-D. */
const KEYS = '0123456789*#ABCD';

export interface TelephoneEvent {
  key: string;
  end: boolean;
  volume: number;
  duration: number;
}

/** The key of a telephone-event payload; events outside 0-15 (tones, flash) are not keys. */
export function parseTelephoneEvent(payload: Buffer): TelephoneEvent | undefined {
  if (payload.length < 4) return undefined;
  const key = KEYS[payload.readUInt8(0)];
  if (key === undefined) return undefined;
  const flags = payload.readUInt8(1);
  return {
    key,
    end: (flags & 0x80) !== 0,
    volume: flags & 0x3f,
    duration: payload.readUInt16BE(2),
  };
}

/** A key from a SIP INFO body: `application/dtmf-relay` (Signal=#) or `application/dtmf` (#). */
export function keyOfInfo(contentType: string, body: string): string | undefined {
  const type = contentType.replace(/;.*$/s, '').trim().toLowerCase();
  let signal: string | undefined;
  if (type === 'application/dtmf-relay') signal = /^\s*Signal\s*=\s*(\S+)\s*$/im.exec(body)?.[1];
  else if (type === 'application/dtmf') signal = body.trim();
  else return undefined;
  if (signal === undefined) return undefined;
  if (/^(1[0-5]|[0-9])$/.test(signal) && signal.length === 2) return KEYS[Number(signal)];
  const key = signal.toUpperCase();
  return key.length === 1 && KEYS.includes(key) ? key : undefined;
}
