import { randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { MULAW_SILENCE } from './audio.ts';
import { buildRtp, parseRtp, parseTelephoneEvent } from './rtp.ts';
import { PCMU, type SdpAnswer } from './sdp.ts';

/** 20 ms of PCMU at 8 kHz: one RTP packet. */
const FRAME_BYTES = 160;
const FRAME_MS = 20;
const SILENCE = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE);

/**
 * One call's audio: a steady stream of PCMU packets every 20 ms (the words being played, else
 * silence, so the far end's jitter buffer and NAT bindings never starve), and the keys the callee
 * sends back as RFC 4733 telephone-events.
 */
export class RtpStream {
  private remote: SdpAnswer | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private playing: { audio: Buffer; offset: number; done: () => void } | undefined;
  private sequence = randomInt(0, 0xffff);
  private timestamp = randomInt(0, 0xffffffff);
  private readonly ssrc = randomInt(1, 0xffffffff);
  private marker = true;
  private framesSent = 0;
  private started = 0;
  private readonly eventsSeen = new Set<number>();
  /** RTP audio packets received from the callee (for logs: the media path works both ways). */
  audioPacketsReceived = 0;

  constructor(
    private readonly socket: Socket,
    private readonly onKey: (key: string) => void,
  ) {
    socket.on('message', (packet, from) => this.onPacket(packet, from));
  }

  /** Starts sending to the address in the callee's answer, the only one keys are taken from. */
  start(remote: SdpAnswer) {
    this.remote = remote;
    this.started = performance.now();
    this.ticker = setInterval(() => this.sendDueFrames(), FRAME_MS);
  }

  /** Plays `audio` from its start (replacing what was playing); `done` when it has all been sent. */
  play(audio: Buffer, done: () => void) {
    this.marker = true; // a new talkspurt
    this.playing = { audio, offset: 0, done };
  }

  /** Silence from now on; what was playing never calls its `done`. */
  stopPlaying() {
    this.playing = undefined;
  }

  get isPlaying() {
    return this.playing !== undefined;
  }

  close() {
    clearInterval(this.ticker);
    this.ticker = undefined;
    this.playing = undefined;
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }

  /** Sends the frames due by the clock (a late timer catches up, a little at a time). */
  private sendDueFrames() {
    const due = Math.floor((performance.now() - this.started) / FRAME_MS);
    for (let burst = 0; this.framesSent < due && burst < 5; burst++) this.sendFrame();
    if (this.framesSent < due - 5) this.framesSent = due; // far behind: skip rather than flood
  }

  private sendFrame() {
    let payload = SILENCE;
    const playing = this.playing;
    if (playing) {
      payload = Buffer.alloc(FRAME_BYTES, MULAW_SILENCE);
      playing.audio.copy(payload, 0, playing.offset, playing.offset + FRAME_BYTES);
      playing.offset += FRAME_BYTES;
      if (playing.offset >= playing.audio.length) {
        this.playing = undefined;
        playing.done();
      }
    }
    const packet = buildRtp(
      {
        payloadType: PCMU,
        marker: this.marker && payload !== SILENCE,
        sequence: this.sequence,
        timestamp: this.timestamp,
        ssrc: this.ssrc,
      },
      payload,
    );
    if (payload !== SILENCE) this.marker = false;
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + FRAME_BYTES) >>> 0;
    this.framesSent++;
    if (this.ticker && this.remote) this.socket.send(packet, this.remote.port, this.remote.address);
  }

  private onPacket(packet: Buffer, from: { address: string; port: number }) {
    const remote = this.remote;
    // Only the address the answer named may send keys: anyone else's packets are ignored.
    if (!remote || from.address !== remote.address || from.port !== remote.port) return;
    const rtp = parseRtp(packet);
    if (!rtp) return;
    if (rtp.payloadType === PCMU) this.audioPacketsReceived++;
    if (remote.eventPayloadType === undefined || rtp.payloadType !== remote.eventPayloadType) return;
    const event = parseTelephoneEvent(rtp.payload);
    // One key is many packets with the same timestamp; the end packet (sent three times) counts once.
    if (!event?.end || this.eventsSeen.has(rtp.timestamp)) return;
    this.eventsSeen.add(rtp.timestamp);
    if (this.eventsSeen.size > 64) this.eventsSeen.delete(this.eventsSeen.values().next().value as number);
    this.onKey(event.key);
  }
}
