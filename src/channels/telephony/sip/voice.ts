import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import type { CallOutcome } from '../../../core/methods/phone/telephony.ts';
import { closingWords, noKeyWords } from '../keys.ts';
import { maskedNumber, type ProviderDeps, TelephonyError, type VoiceProvider } from '../provider.ts';
import { type CallAudio, type CallContext, SipCall } from './call.ts';
import { header, parseMessage, responseTo } from './message.ts';
import type { SipVoiceSettings } from './settings.ts';
import { speechCache } from './speech.ts';

export { sipVoiceSchema } from './settings.ts';

const E164 = /^\+[1-9]\d{6,14}$/;

function bindUdp(address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/**
 * Verification calls through the organisation's own telephony, a SIP trunk or PBX: Gatehouse is
 * the caller (a small RFC 3261 user agent over UDP, see ./call.ts), speaks the prompt it made
 * with espeak-ng as G.711 μ-law, and hears # as RFC 4733 telephone-events or SIP INFO. Nothing
 * reaches the portal's web server: the whole call is SIP and RTP from this process.
 */
export async function startSipVoice(settings: SipVoiceSettings, deps: ProviderDeps): Promise<VoiceProvider> {
  const speak = speechCache(settings.speech);
  // The fixed words are spoken now: a missing espeak-ng stops the start, not the first call.
  const outcomes = Object.keys(closingWords) as CallOutcome[];
  const noKey = await speak(noKeyWords);
  const closings = await Promise.all(outcomes.map(async (o) => [o, await speak(closingWords[o])] as const));
  const closing = Object.fromEntries(closings) as Record<CallOutcome, Buffer>;

  let sip: Socket;
  try {
    sip = await bindUdp(settings.localAddress, settings.localPort);
  } catch (error) {
    throw new TelephonyError(
      'sip_bind_failed',
      `cannot listen for SIP on ${settings.localAddress}:${settings.localPort}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  sip.on('error', (error) => deps.logger.error({ err: error.message }, 'SIP socket error'));

  const calls = new Map<string, SipCall>();
  const rtpPortsInUse = new Set<number>();
  let closed = false;

  const context: CallContext = {
    settings,
    localPort: sip.address().port,
    sip,
    logger: deps.logger,
    report(challengeId, outcome) {
      deps
        .onOutcome(challengeId, outcome)
        .catch((error: unknown) =>
          deps.logger.error(
            { challenge: challengeId, err: (error as Error).message },
            'SIP: recording the outcome failed',
          ),
        );
    },
    ended(call) {
      calls.delete(call.callId);
    },
  };

  sip.on('message', (packet, from) => {
    const message = parseMessage(packet);
    const callId = message && header(message, 'call-id');
    if (!message || !callId) {
      deps.logger.debug(
        { from: from.address, bytes: packet.length },
        'SIP: ignored a packet that is not SIP',
      );
      return;
    }
    const call = calls.get(callId);
    if (message.kind === 'response') {
      call?.onResponse(message);
    } else if (call) {
      call.onRequest(message, from);
    } else if (message.method !== 'ACK') {
      // Gatehouse only calls out: a request outside its calls belongs to no dialog.
      sip.send(
        Buffer.from(responseTo(message, 481, 'Call/Transaction Does Not Exist')),
        from.port,
        from.address,
      );
    }
  });

  /** An even port of the range for this call's RTP, starting anywhere so calls spread out. */
  async function rtpSocket(): Promise<{ socket: Socket; port: number }> {
    const { first, last } = settings.rtpPorts;
    const base = first + (first % 2);
    const count = Math.floor((last - base) / 2) + 1;
    const start = randomInt(0, Math.max(count, 1));
    for (let i = 0; i < count; i++) {
      const port = base + 2 * ((start + i) % count);
      if (rtpPortsInUse.has(port)) continue;
      try {
        const socket = await bindUdp(settings.localAddress, port);
        rtpPortsInUse.add(port);
        socket.on('close', () => rtpPortsInUse.delete(port));
        socket.on('error', (error) => deps.logger.warn({ err: error.message }, 'SIP: RTP socket error'));
        return { socket, port };
      } catch {
        // taken by another program: try the next one
      }
    }
    throw new TelephonyError(
      'sip_no_rtp_port',
      `no free RTP port in ${first}-${last}: too many calls at once`,
    );
  }

  return {
    async placeCall(call) {
      if (closed) throw new TelephonyError('sip_closed', 'the SIP provider is shutting down');
      if (!E164.test(call.to)) throw new TelephonyError('sip_bad_number', 'not an E.164 number');
      const prompt = await speak(call.message);
      const audio: CallAudio = { prompt, closing, noKey };
      const { socket, port } = await rtpSocket();
      const sipCall = new SipCall(context, call.challengeId, call.to, audio, socket, port);
      calls.set(sipCall.callId, sipCall);
      sipCall.start();
      deps.logger.info(
        { challenge: call.challengeId, to: maskedNumber(call.to), callId: sipCall.callId },
        'SIP call placed',
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      const inProgress = [...calls.values()];
      for (const call of inProgress) call.abandon();
      // Let the CANCELs and BYEs leave before the socket closes.
      if (inProgress.length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      await new Promise<void>((resolve) => sip.close(() => resolve()));
    },
  };
}
