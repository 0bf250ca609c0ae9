/**
 * The SDP offer and answer (RFC 4566, RFC 3264): audio in PCMU only, because the prompt is made
 * once in PCMU and every telephone network carries it; telephone-event for the keys (RFC 4733).
 */

export const PCMU = 0;
/** The dynamic payload type offered for telephone-event; the answer may choose another. */
export const OFFERED_EVENT_PT = 101;

export function sdpOffer(address: string, rtpPort: number, sessionId: string): string {
  return [
    'v=0',
    `o=gatehouse ${sessionId} 1 IN IP4 ${address}`,
    's=Gatehouse verification call',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${rtpPort} RTP/AVP ${PCMU} ${OFFERED_EVENT_PT}`,
    `a=rtpmap:${PCMU} PCMU/8000`,
    `a=rtpmap:${OFFERED_EVENT_PT} telephone-event/8000`,
    `a=fmtp:${OFFERED_EVENT_PT} 0-15`,
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

export interface SdpAnswer {
  /** Where the callee wants its audio (and, symmetric RTP, where its audio comes from). */
  address: string;
  port: number;
  /** The payload type of telephone-event in the answer, if it accepted it. */
  eventPayloadType: number | undefined;
}

/**
 * The first audio stream of an answer, if it is usable: a port, an address and PCMU among its
 * formats. Anything else (no audio, port 0 = refused, only other codecs) is undefined.
 */
export function parseSdpAnswer(sdp: string): SdpAnswer | undefined {
  let sessionAddress: string | undefined;
  let media: { port: number; formats: string[]; address?: string; rtpmap: Map<number, string> } | undefined;
  for (const raw of sdp.split(/\r?\n/).slice(0, 200)) {
    const line = raw.trim();
    if (line.startsWith('c=')) {
      const address = /^c=IN IP[46] ([0-9A-Fa-f.:]+)/.exec(line)?.[1];
      if (media) media.address ??= address;
      else sessionAddress = address;
    } else if (line.startsWith('m=')) {
      if (media) break; // only the first audio stream is used
      const [, port, formats] = /^m=audio (\d{1,5})(?:\/\d+)? RTP\/AVP((?: \d{1,3})+)$/.exec(line) ?? [];
      if (port === undefined || formats === undefined) continue;
      media = { port: Number(port), formats: formats.trim().split(' '), rtpmap: new Map() };
    } else if (media && line.startsWith('a=rtpmap:')) {
      const [, format, encoding, clockRate] = /^a=rtpmap:(\d{1,3}) ([A-Za-z0-9-]+)\/(\d+)/.exec(line) ?? [];
      if (format !== undefined && encoding !== undefined && clockRate !== undefined)
        media.rtpmap.set(Number(format), `${encoding.toLowerCase()}/${clockRate}`);
    }
  }
  const address = media?.address ?? sessionAddress;
  if (!media || !address || media.port === 0 || media.port > 65535) return undefined;
  const pcmu = media.formats.some(
    (f) => (f === '0' && !media.rtpmap.has(0)) || media.rtpmap.get(Number(f)) === 'pcmu/8000',
  );
  if (!pcmu) return undefined;
  const event = media.formats
    .map(Number)
    .find((pt) => pt >= 96 && pt <= 127 && media.rtpmap.get(pt) === 'telephone-event/8000');
  return { address, port: media.port, eventPayloadType: event };
}
