import { randomBytes, randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import type { FastifyBaseLogger } from 'fastify';
import type { CallOutcome } from '../../../core/methods/phone/telephony.ts';
import { outcomeOfDigits } from '../keys.ts';
import { maskedNumber } from '../provider.ts';
import { type DigestChallenge, digestAuthorization, parseDigestChallenge } from './digest.ts';
import { RtpStream } from './media.ts';
import {
  cseqOf,
  header,
  hostPortOf,
  parameter,
  responseTo,
  type SipRequest,
  type SipResponse,
  serialize,
  uriOf,
} from './message.ts';
import { keyOfInfo } from './rtp.ts';
import { parseSdpAnswer, type SdpAnswer, sdpOffer } from './sdp.ts';
import type { SipVoiceSettings } from './settings.ts';

/** RFC 3261 Timer T1: the first retransmission interval over UDP. */
const T1_MS = 500;

const token = (bytes = 8) => randomBytes(bytes).toString('hex');
const branch = () => `z9hG4bK${token(10)}`;

/** The spoken parts of a call, already in PCMU. */
export interface CallAudio {
  prompt: Buffer;
  closing: Record<CallOutcome, Buffer>;
  noKey: Buffer;
}

export interface CallContext {
  settings: SipVoiceSettings;
  /** The SIP socket's port (settings.localPort may be 0). */
  localPort: number;
  sip: Socket;
  logger: FastifyBaseLogger;
  report(challengeId: string, outcome: CallOutcome): void;
  /** The call has ended and needs no more packets. */
  ended(call: SipCall): void;
}

/** Final responses to the INVITE, as the core understands them. */
function outcomeOfStatus(status: number): CallOutcome {
  if (status === 486 || status === 600 || status === 603) return 'rejected';
  if (status === 408 || status === 480 || status === 487) return 'no_answer';
  return 'failed';
}

type State = 'calling' | 'ringing' | 'cancelling' | 'answered' | 'ending' | 'ended';

/**
 * One verification call as a SIP user agent client (RFC 3261 over UDP): the INVITE transaction,
 * then the dialog in which it speaks the prompt as RTP and listens for keys sent as RFC 4733
 * telephone-events or SIP INFO. Every path ends in `finish`, which reports at most one outcome.
 */
export class SipCall {
  readonly callId: string;
  private readonly localTag = token();
  private readonly requestUri: string;
  private readonly fromHeader: string;
  private readonly contact: string;
  private cseq = randomInt(1, 10_000);
  private inviteBranch = branch();
  private inviteCseq = 0;
  private authorization: [string, string] | undefined;
  private state: State = 'calling';
  private remoteTag: string | undefined;
  private remoteTarget: string | undefined;
  private routeSet: string[] = [];
  private ackText: string | undefined;
  private media: SdpAnswer | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private outcome: CallOutcome | undefined;

  private readonly rtp: RtpStream;
  // The keys heard so far, and the prompt's round (it asks twice).
  private digits = '';
  private keysOpen = false;
  private attempt = 0;
  private keyTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly context: CallContext,
    private readonly challengeId: string,
    private readonly to: string,
    private readonly audio: CallAudio,
    rtpSocket: Socket,
    private readonly rtpPort: number,
  ) {
    const { settings } = context;
    const server = `${settings.server.host}:${settings.server.port}`;
    this.callId = `${token(16)}@${settings.localAddress}`;
    this.requestUri = `sip:${to}@${server}`;
    const name = settings.displayName ? `"${settings.displayName}" ` : '';
    this.fromHeader = `${name}<sip:${settings.from}@${settings.server.host}>;tag=${this.localTag}`;
    this.contact = `<sip:${settings.from}@${settings.localAddress}:${context.localPort}>`;
    this.rtp = new RtpStream(rtpSocket, (key) => this.onKey(key));
  }

  private get log() {
    return { challenge: this.challengeId, to: maskedNumber(this.to), callId: this.callId };
  }

  private later(ms: number, run: () => void) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private cancelTimer(timer: NodeJS.Timeout | undefined) {
    if (!timer) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  private send(
    text: string,
    host = this.context.settings.server.host,
    port = this.context.settings.server.port,
  ) {
    this.context.sip.send(Buffer.from(text, 'utf8'), port, host, (error) => {
      if (error) this.context.logger.warn({ ...this.log, err: error.message }, 'SIP: could not send');
    });
  }

  /** Reports the outcome the first time only; later calls change nothing. */
  private settle(outcome: CallOutcome) {
    if (this.outcome) return;
    this.outcome = outcome;
    this.context.report(this.challengeId, outcome);
  }

  // ---------------------------------------------------------------- the INVITE transaction

  start() {
    const { settings } = this.context;
    this.sendInvite();
    // No answer at all (not even 100 Trying) within Timer B, or the ring time when shorter: failed.
    const silentMs = Math.min(64 * T1_MS, settings.ringSeconds * 1000);
    this.later(silentMs, () => {
      if (this.state !== 'calling') return;
      this.context.logger.warn(this.log, 'SIP: the server did not answer the INVITE');
      this.finish('failed');
    });
    this.later(settings.ringSeconds * 1000, () => {
      if (this.state === 'ringing') this.cancel();
    });
    this.later(settings.maxCallSeconds * 1000, () => {
      if (this.state === 'answered') {
        this.context.logger.info(this.log, 'SIP: the call reached maxCallSeconds');
        this.settle('no_answer');
        this.hangUp();
      }
    });
  }

  private viaHeader(branchId: string): [string, string] {
    const { settings } = this.context;
    return ['Via', `SIP/2.0/UDP ${settings.localAddress}:${this.context.localPort};branch=${branchId};rport`];
  }

  private inviteHeaders(): [string, string][] {
    return [
      this.viaHeader(this.inviteBranch),
      ['Max-Forwards', '70'],
      ['From', this.fromHeader],
      ['To', `<${this.requestUri}>`],
      ['Call-ID', this.callId],
      ['CSeq', `${this.inviteCseq} INVITE`],
    ];
  }

  private sendInvite() {
    this.inviteCseq = this.cseq++;
    const text = serialize(
      `INVITE ${this.requestUri} SIP/2.0`,
      [
        ...this.inviteHeaders(),
        ['Contact', this.contact],
        ...(this.authorization ? [this.authorization] : []),
        ['Allow', 'INVITE, ACK, CANCEL, BYE, INFO, OPTIONS'],
        ['User-Agent', 'Gatehouse'],
        ['Content-Type', 'application/sdp'],
      ],
      sdpOffer(this.context.settings.localAddress, this.rtpPort, String(randomInt(1, 2 ** 31))),
    );
    this.send(text);
    // Timer A: retransmit at T1, 2·T1, 4·T1… until any response (UDP may lose the INVITE).
    const sentBranch = this.inviteBranch;
    const retransmit = (interval: number) => {
      this.later(interval, () => {
        if (this.state !== 'calling' || this.inviteBranch !== sentBranch) return;
        this.send(text);
        retransmit(Math.min(interval * 2, 4000));
      });
    };
    retransmit(T1_MS);
  }

  /** ACK for a non-2xx final response: part of the INVITE transaction (same branch). */
  private ackFailure(response: SipResponse) {
    const headers = this.inviteHeaders().map(([name, value]): [string, string] =>
      name === 'To'
        ? ['To', header(response, 'to') ?? value]
        : name === 'CSeq'
          ? ['CSeq', `${this.inviteCseq} ACK`]
          : [name, value],
    );
    this.send(serialize(`ACK ${this.requestUri} SIP/2.0`, headers));
  }

  private cancel() {
    this.state = 'cancelling';
    this.context.logger.info(this.log, 'SIP: not answered in time, cancelling');
    this.settle('no_answer');
    const text = serialize(`CANCEL ${this.requestUri} SIP/2.0`, [
      this.viaHeader(this.inviteBranch),
      ['Max-Forwards', '70'],
      ['From', this.fromHeader],
      ['To', `<${this.requestUri}>`],
      ['Call-ID', this.callId],
      ['CSeq', `${this.inviteCseq} CANCEL`],
    ]);
    this.send(text);
    this.later(T1_MS, () => this.state === 'cancelling' && this.send(text));
    // The 487 that should follow is ACKed when it comes; without it the call is over anyway.
    this.later(64 * T1_MS, () => this.state === 'cancelling' && this.finish('no_answer'));
  }

  onResponse(response: SipResponse) {
    const cseq = cseqOf(response);
    if (!cseq || parameter(header(response, 'from'), 'tag') !== this.localTag) return;
    if (cseq.method === 'BYE') {
      if (this.state === 'ending') this.finish();
      return;
    }
    if (cseq.method !== 'INVITE' || cseq.number !== this.inviteCseq) return;
    if (parameter(header(response, 'via'), 'branch') !== this.inviteBranch) return;
    const toTag = parameter(header(response, 'to'), 'tag');
    if (response.status < 200) {
      if (this.state === 'calling') {
        this.state = 'ringing';
        this.context.logger.info({ ...this.log, status: response.status }, 'SIP: the call is progressing');
      }
      return;
    }
    if (response.status < 300) return this.onAnswered(response, toTag);
    if (this.state === 'answered' || this.state === 'ending' || this.state === 'ended') return;
    this.ackFailure(response);
    if ((response.status === 401 || response.status === 407) && this.authenticate(response)) return;
    const outcome = outcomeOfStatus(response.status);
    const level = outcome === 'failed' ? 'warn' : 'info';
    this.context.logger[level](
      { ...this.log, status: response.status, outcome },
      'SIP: the call was not answered',
    );
    this.finish(outcome);
  }

  /** Sends the INVITE again with credentials, once; a second challenge means they are wrong. */
  private authenticate(response: SipResponse): boolean {
    const { settings } = this.context;
    const proxy = response.status === 407;
    const challengeText = header(response, proxy ? 'proxy-authenticate' : 'www-authenticate');
    const challenge: DigestChallenge | undefined = challengeText
      ? parseDigestChallenge(challengeText)
      : undefined;
    if (!settings.username || settings.password === undefined || !challenge || this.authorization) {
      this.context.logger.warn(
        { ...this.log, status: response.status, code: 'sip_auth_failed' },
        this.authorization
          ? 'SIP: the server refused the credentials'
          : 'SIP: the server asks for credentials that are not configured or not supported',
      );
      return false;
    }
    this.authorization = [
      proxy ? 'Proxy-Authorization' : 'Authorization',
      digestAuthorization(challenge, {
        username: settings.username,
        password: settings.password,
        method: 'INVITE',
        uri: this.requestUri,
      }),
    ];
    this.inviteBranch = branch();
    this.state = 'calling';
    this.sendInvite();
    return true;
  }

  private onAnswered(response: SipResponse, toTag: string | undefined) {
    if (this.ackText !== undefined) {
      // A retransmitted 200 OK: our ACK was lost. A 200 from another fork is not followed.
      if (toTag === this.remoteTag) this.sendInDialog(this.ackText);
      return;
    }
    this.remoteTag = toTag;
    const contact = header(response, 'contact');
    this.remoteTarget = contact ? uriOf(contact) : this.requestUri;
    // The route set is the Record-Route headers in reverse order (RFC 3261 §12.1.2).
    this.routeSet = (response.headers.get('record-route') ?? [])
      .flatMap((value) => value.split(/,(?=\s*<)/))
      .map((value) => value.trim())
      .reverse();
    this.ackText = serialize(`ACK ${this.remoteTarget} SIP/2.0`, [
      this.viaHeader(branch()),
      ['Max-Forwards', '70'],
      ...this.routeSet.map((route): [string, string] => ['Route', route]),
      ['From', this.fromHeader],
      ['To', header(response, 'to') ?? `<${this.requestUri}>`],
      ['Call-ID', this.callId],
      ['CSeq', `${this.inviteCseq} ACK`],
    ]);
    this.sendInDialog(this.ackText);
    const wasCancelling = this.state === 'cancelling';
    this.state = 'answered';
    if (wasCancelling) {
      // Answered just as the ring time ran out: the outcome (no answer) is given; end the call.
      return this.hangUp();
    }
    this.media = parseSdpAnswer(response.body);
    if (!this.media) {
      this.context.logger.warn(this.log, 'SIP: the answer has no usable audio (PCMU) stream');
      this.settle('failed');
      return this.hangUp();
    }
    this.context.logger.info(
      { ...this.log, events: this.media.eventPayloadType !== undefined },
      'SIP: the call was answered',
    );
    this.startMedia(this.media);
  }

  /** In-dialog requests go to the first route (loose routing) or else to the callee's Contact. */
  private sendInDialog(text: string) {
    const next = this.routeSet[0] ? uriOf(this.routeSet[0]) : this.remoteTarget;
    const where = next ? hostPortOf(next) : undefined;
    if (where) this.send(text, where.host, where.port);
    else this.send(text);
  }

  // ---------------------------------------------------------------- requests from the callee

  onRequest(request: SipRequest, from: { address: string; port: number }) {
    const reply = (status: number, reason: string, extra: [string, string][] = []) =>
      this.context.sip.send(Buffer.from(responseTo(request, status, reason, extra)), from.port, from.address);
    if (request.method === 'ACK') return;
    const sameDialog =
      this.remoteTag !== undefined &&
      parameter(header(request, 'from'), 'tag') === this.remoteTag &&
      parameter(header(request, 'to'), 'tag') === this.localTag;
    if (!sameDialog) return reply(481, 'Call/Transaction Does Not Exist');
    switch (request.method) {
      case 'BYE':
        reply(200, 'OK');
        if (this.state === 'answered') {
          this.context.logger.info(this.log, 'SIP: the callee hung up');
          this.finish('no_answer');
        }
        return;
      case 'INFO': {
        reply(200, 'OK');
        const key = keyOfInfo(header(request, 'content-type') ?? '', request.body);
        if (key !== undefined) this.onKey(key);
        return;
      }
      case 'OPTIONS':
        return reply(200, 'OK', [['Allow', 'INVITE, ACK, CANCEL, BYE, INFO, OPTIONS']]);
      case 'INVITE':
        // A re-INVITE would change the media mid-prompt; the call keeps the session it has.
        return reply(488, 'Not Acceptable Here');
      default:
        return reply(501, 'Not Implemented');
    }
  }

  // ---------------------------------------------------------------- media and keys

  private startMedia(remote: SdpAnswer) {
    this.rtp.start(remote);
    this.askForKey();
  }

  /** The message, then `keySeconds` for keys; asked twice, then goodbye (as the TwiML does). */
  private askForKey() {
    this.attempt++;
    this.keysOpen = true;
    this.rtp.play(this.audio.prompt, () => this.waitForKeys());
  }

  private waitForKeys() {
    this.cancelTimer(this.keyTimer);
    this.keyTimer = this.later(this.context.settings.keySeconds * 1000, () => {
      if (!this.keysOpen) return;
      if (this.digits !== '') return this.conclude(outcomeOfDigits(this.digits));
      if (this.attempt < 2) return this.askForKey();
      this.keysOpen = false;
      this.settle('no_answer');
      this.rtp.play(this.audio.noKey, () => this.hangUp());
    });
  }

  private onKey(key: string) {
    if (!this.keysOpen) return;
    this.context.logger.debug({ ...this.log, key: key === '#' ? '#' : 'other' }, 'SIP: key');
    if (key === '#') return this.conclude(outcomeOfDigits(this.digits));
    if (this.digits.length < 32) this.digits += key;
    // The first key stops the prompt, and each key gives the caller keySeconds more (a Gather's timeout).
    this.rtp.stopPlaying();
    this.waitForKeys();
  }

  private conclude(outcome: CallOutcome) {
    this.keysOpen = false;
    this.cancelTimer(this.keyTimer);
    this.context.logger.info({ ...this.log, outcome }, 'SIP: keys heard');
    this.settle(outcome);
    this.rtp.play(this.audio.closing[outcome], () => this.hangUp());
  }

  // ---------------------------------------------------------------- the end

  /** BYE, retransmitted until answered (Timer E, simplified); the call is over either way. */
  hangUp() {
    if (this.state !== 'answered') return;
    this.state = 'ending';
    this.rtp.stopPlaying();
    const text = serialize(`BYE ${this.remoteTarget} SIP/2.0`, [
      this.viaHeader(branch()),
      ['Max-Forwards', '70'],
      ...this.routeSet.map((route): [string, string] => ['Route', route]),
      ['From', this.fromHeader],
      ['To', `<${this.requestUri}>${this.remoteTag ? `;tag=${this.remoteTag}` : ''}`],
      ['Call-ID', this.callId],
      ['CSeq', `${this.cseq++} BYE`],
      ['User-Agent', 'Gatehouse'],
    ]);
    this.sendInDialog(text);
    for (const delay of [T1_MS, 3 * T1_MS, 7 * T1_MS])
      this.later(delay, () => this.state === 'ending' && this.sendInDialog(text));
    this.later(8 * T1_MS, () => this.finish());
  }

  /** Shutting down: a ringing call is cancelled, an answered one hung up, and the outcome is failed. */
  abandon() {
    this.settle('failed');
    if (this.state === 'ringing') this.cancel();
    else if (this.state === 'answered') this.hangUp();
    this.finish();
  }

  private finish(outcome?: CallOutcome) {
    if (outcome) this.settle(outcome);
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.rtp.stopPlaying();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.rtp.close();
    this.context.logger.debug(
      { ...this.log, audioPackets: this.rtp.audioPacketsReceived },
      'SIP: call ended',
    );
    this.context.ended(this);
  }
}
