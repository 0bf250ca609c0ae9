import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { digestResponse, parseDigestChallenge } from '../../src/channels/telephony/sip/digest.ts';
import {
  cseqOf,
  header,
  parameter,
  parseMessage,
  type SipMessage,
  type SipRequest,
  serialize,
} from '../../src/channels/telephony/sip/message.ts';
import { buildRtp, parseRtp } from '../../src/channels/telephony/sip/rtp.ts';
import { sipVoiceSchema, startSipVoice } from '../../src/channels/telephony/sip/voice.ts';
import type { CallOutcome } from '../../src/core/methods/phone/telephony.ts';

/**
 * The SIP provider against a small SIP server written here (a UAS on dgram), for what baresip
 * cannot do: ask for digest credentials, send # as SIP INFO, answer busy or with errors, lose
 * packets, send garbage or RTP from the wrong address.
 */

const NUMBER = '+447700900123';
const PASSWORD = 'trunk-secret-9f3a';
const logger = pino({ level: process.env.GATEHOUSE_TEST_LOG ?? 'silent' });

interface Received {
  message: SipMessage;
  from: { address: string; port: number };
}

const bind = (): Promise<Socket> =>
  new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });

/** The SIP server: records what arrives; the test answers. */
async function startUas() {
  const socket = await bind();
  const port = socket.address().port;
  const received: Received[] = [];
  socket.on('message', (packet, from) => {
    const message = parseMessage(packet);
    if (message) received.push({ message, from });
  });
  const send = (text: string | Buffer, to: { address: string; port: number }) =>
    new Promise<void>((resolve) => socket.send(text, to.port, to.address, () => resolve()));
  return {
    port,
    received,
    send,
    /** The next message (not yet taken) matching `match`. */
    async next(match: (m: SipMessage) => boolean, timeoutMs = 8000): Promise<Received> {
      for (let waited = 0; waited < timeoutMs; waited += 10) {
        const index = received.findIndex((r) => match(r.message));
        if (index >= 0) return received.splice(index, 1)[0]!;
        await sleep(10);
      }
      throw new Error(
        `nothing matching arrived; got ${received.map((r) => startLine(r.message)).join(' | ')}`,
      );
    },
    /** A response to `request`, with a To tag and a Contact at this server. */
    reply(
      request: Received,
      status: number,
      reason: string,
      options: { toTag?: string; headers?: [string, string][]; body?: string } = {},
    ) {
      const req = request.message as SipRequest;
      const to = header(req, 'to')!;
      const headers: [string, string][] = [
        ...(req.headers.get('via') ?? []).map((v): [string, string] => ['Via', v]),
        ['From', header(req, 'from')!],
        ['To', options.toTag && !parameter(to, 'tag') ? `${to};tag=${options.toTag}` : to],
        ['Call-ID', header(req, 'call-id')!],
        ['CSeq', header(req, 'cseq')!],
        ['Contact', `<sip:${NUMBER}@127.0.0.1:${port}>`],
        ...(options.headers ?? []),
      ];
      return send(serialize(`SIP/2.0 ${status} ${reason}`, headers, options.body ?? ''), request.from);
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
type Uas = Awaited<ReturnType<typeof startUas>>;

const startLine = (m: SipMessage) =>
  m.kind === 'request' ? `${m.method} ${m.uri}` : `${m.status} ${m.reason}`;
const isRequest = (method: string) => (m: SipMessage) => m.kind === 'request' && m.method === method;

/** An SDP answer with audio at `port` and telephone-event as payload type 96. */
const answerSdp = (port: number) =>
  [
    'v=0',
    'o=uas 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0 96`,
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:96 telephone-event/8000',
    '',
  ].join('\r\n');

/** An in-dialog request from the callee to Gatehouse (INFO, BYE…). */
function calleeRequest(
  invite: Received,
  toTag: string,
  method: string,
  cseq: number,
  extra: [string, string][] = [],
  body = '',
) {
  const req = invite.message as SipRequest;
  // The caller's From becomes the To, and the other way round.
  return serialize(
    `${method} ${/<([^>]+)>/.exec(header(req, 'contact')!)![1]} SIP/2.0`,
    [
      ['Via', `SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK${randomUUID().slice(0, 8)}`],
      ['From', `${header(req, 'to')};tag=${toTag}`],
      ['To', header(req, 'from')!],
      ['Call-ID', header(req, 'call-id')!],
      ['CSeq', `${cseq} ${method}`],
      ...extra,
    ],
    body,
  );
}

/** Three end packets of one key, as RFC 4733 senders repeat them, plus a start packet. */
async function sendKey(rtp: Socket, to: { address: string; port: number }, event: number, timestamp: number) {
  const packets = [
    Buffer.from([event, 0x0a, 0x00, 0xa0]),
    Buffer.from([event, 0x8a, 0x05, 0xa0]),
    Buffer.from([event, 0x8a, 0x05, 0xa0]),
    Buffer.from([event, 0x8a, 0x05, 0xa0]),
  ];
  let sequence = timestamp & 0xffff;
  for (const [i, payload] of packets.entries()) {
    const packet = buildRtp(
      { payloadType: 96, marker: i === 0, sequence: sequence++, timestamp, ssrc: 77 },
      payload,
    );
    await new Promise<void>((resolve) => rtp.send(packet, to.port, to.address, () => resolve()));
  }
}

async function provider(uasPort: number, extra: Record<string, unknown> = {}) {
  const outcomes = new Map<string, CallOutcome[]>();
  const voice = await startSipVoice(
    sipVoiceSchema.parse({
      provider: 'sip',
      server: `127.0.0.1:${uasPort}`,
      from: '+441632960001',
      localAddress: '127.0.0.1',
      localPort: 0,
      rtpPorts: { first: 47000, last: 47998 },
      ringSeconds: 5,
      ...extra,
    }),
    {
      logger,
      onOutcome: async (id, outcome) => {
        outcomes.set(id, [...(outcomes.get(id) ?? []), outcome]);
      },
    },
  );
  async function call() {
    const challengeId = randomUUID();
    await voice.placeCall({ challengeId, to: NUMBER, message: 'Press the hash key.' });
    return {
      async outcome(timeoutMs = 10_000): Promise<CallOutcome> {
        for (let waited = 0; waited < timeoutMs; waited += 10) {
          if (outcomes.get(challengeId)) {
            await sleep(50);
            assert.equal(outcomes.get(challengeId)!.length, 1, 'one outcome');
            return outcomes.get(challengeId)![0]!;
          }
          await sleep(10);
        }
        throw new Error('no outcome');
      },
      pending: () => outcomes.get(challengeId) === undefined,
    };
  }
  return { voice, call };
}

describe('the SIP provider against a test SIP server', () => {
  let uas: Uas;
  let rtp: Socket;
  before(async () => {
    uas = await startUas();
    rtp = await bind();
  });
  after(async () => {
    await uas?.close();
    await new Promise<void>((resolve) => rtp.close(() => resolve()));
  });

  /** Receives the INVITE, answers 200 with SDP; returns the dialog and the ACK. */
  async function answer(toTag = 'uas-tag') {
    const invite = await uas.next(isRequest('INVITE'));
    await uas.reply(invite, 180, 'Ringing', { toTag });
    await uas.reply(invite, 200, 'OK', {
      toTag,
      headers: [['Content-Type', 'application/sdp']],
      body: answerSdp(rtp.address().port),
    });
    const ack = await uas.next(isRequest('ACK'));
    return { invite, ack, toTag };
  }

  test('401: the INVITE is ACKed and sent again with a digest answer; # by SIP INFO verifies', async () => {
    const sip = await provider(uas.port, { username: 'gatehouse', password: PASSWORD });
    try {
      const call = await sip.call();
      const first = await uas.next(isRequest('INVITE'));
      const offer = first.message.body;
      assert.match(offer, /^m=audio \d+ RTP\/AVP 0 101$/m);
      assert.match(header(first.message, 'from')!, /^<sip:\+441632960001@127\.0\.0\.1>;tag=\w+$/);
      assert.equal((first.message as SipRequest).uri, `sip:${NUMBER}@127.0.0.1:${uas.port}`);
      await uas.reply(first, 401, 'Unauthorized', {
        toTag: 'auth-tag',
        headers: [
          ['WWW-Authenticate', 'Digest realm="trunk.example", nonce="n0nce-42", qop="auth", algorithm=MD5'],
        ],
      });
      const ackOf401 = await uas.next(isRequest('ACK'));
      assert.equal(cseqOf(ackOf401.message)?.number, cseqOf(first.message)?.number);
      assert.equal(
        parameter(header(ackOf401.message, 'via'), 'branch'),
        parameter(header(first.message, 'via'), 'branch'),
      );
      assert.equal(parameter(header(ackOf401.message, 'to'), 'tag'), 'auth-tag');

      const { invite, toTag } = await answer();
      assert.equal(header(invite.message, 'call-id'), header(first.message, 'call-id'));
      assert.equal(cseqOf(invite.message)?.number, cseqOf(first.message)!.number + 1);
      const authorization = header(invite.message, 'authorization')!;
      assert.doesNotMatch(authorization, new RegExp(PASSWORD));
      const field = (name: string) => new RegExp(`${name}="?([^",]+)"?`).exec(authorization)?.[1];
      const expected = digestResponse(
        parseDigestChallenge('Digest realm="trunk.example", nonce="n0nce-42", qop="auth"')!,
        {
          username: 'gatehouse',
          password: PASSWORD,
          method: 'INVITE',
          uri: field('uri')!,
          cnonce: field('cnonce')!,
          nc: Number.parseInt(field('nc')!, 16),
        },
      );
      assert.equal(field('response'), expected);
      assert.equal(field('username'), 'gatehouse');

      // The callee presses # and its phone says so in SIP INFO (application/dtmf-relay).
      await uas.send(
        calleeRequest(
          invite,
          toTag,
          'INFO',
          1,
          [['Content-Type', 'application/dtmf-relay']],
          'Signal=#\r\nDuration=160\r\n',
        ),
        { address: '127.0.0.1', port: Number(/:(\d+)>/.exec(header(invite.message, 'contact')!)![1]) },
      );
      const infoOk = await uas.next((m) => m.kind === 'response' && cseqOf(m)?.method === 'INFO');
      assert.equal(infoOk.message.kind === 'response' && infoOk.message.status, 200);
      assert.equal(await call.outcome(), 'confirmed');
      const bye = await uas.next(isRequest('BYE'), 10_000);
      assert.equal(parameter(header(bye.message, 'to'), 'tag'), toTag);
      await uas.reply(bye, 200, 'OK');
    } finally {
      await sip.voice.close();
    }
  });

  test('credentials refused twice (407): failed, without looping', async () => {
    const sip = await provider(uas.port, { username: 'gatehouse', password: 'wrong-password' });
    try {
      const call = await sip.call();
      const challenge = ['Proxy-Authenticate', 'Digest realm="trunk.example", nonce="abc"'] as [
        string,
        string,
      ];
      const first = await uas.next(isRequest('INVITE'));
      await uas.reply(first, 407, 'Proxy Authentication Required', { toTag: 'p1', headers: [challenge] });
      const second = await uas.next(isRequest('INVITE'));
      assert.match(header(second.message, 'proxy-authorization')!, /^Digest username="gatehouse"/);
      await uas.reply(second, 407, 'Proxy Authentication Required', { toTag: 'p2', headers: [challenge] });
      assert.equal(await call.outcome(), 'failed');
      await sleep(300);
      assert.equal(uas.received.filter((r) => isRequest('INVITE')(r.message)).length, 0, 'no third INVITE');
      uas.received.length = 0;
    } finally {
      await sip.voice.close();
    }
  });

  test('busy, declined, unavailable and server errors: each its outcome, each final response ACKed', async () => {
    const sip = await provider(uas.port);
    try {
      for (const [status, reason, outcome] of [
        [486, 'Busy Here', 'rejected'],
        [603, 'Decline', 'rejected'],
        [600, 'Busy Everywhere', 'rejected'],
        [480, 'Temporarily Unavailable', 'no_answer'],
        [408, 'Request Timeout', 'no_answer'],
        [404, 'Not Found', 'failed'],
        [503, 'Service Unavailable', 'failed'],
      ] as const) {
        const call = await sip.call();
        const invite = await uas.next(isRequest('INVITE'));
        await uas.reply(invite, 100, 'Trying');
        await uas.reply(invite, status, reason, { toTag: `t${status}` });
        const ack = await uas.next(isRequest('ACK'));
        assert.equal(parameter(header(ack.message, 'to'), 'tag'), `t${status}`);
        assert.equal(await call.outcome(), outcome, String(status));
      }
      // 401 without configured credentials cannot be answered: failed.
      const call = await sip.call();
      const invite = await uas.next(isRequest('INVITE'));
      await uas.reply(invite, 401, 'Unauthorized', {
        toTag: 'x',
        headers: [['WWW-Authenticate', 'Digest realm="r", nonce="n"']],
      });
      await uas.next(isRequest('ACK'));
      assert.equal(await call.outcome(), 'failed');
    } finally {
      await sip.voice.close();
    }
  });

  test('a lost INVITE is sent again (Timer A); garbage, strangers and stray responses are ignored', async () => {
    const sip = await provider(uas.port);
    try {
      const call = await sip.call();
      const lost = await uas.next(isRequest('INVITE'));
      const again = await uas.next(isRequest('INVITE'), 2000);
      assert.equal(header(again.message, 'call-id'), header(lost.message, 'call-id'));
      assert.equal(
        parameter(header(again.message, 'via'), 'branch'),
        parameter(header(lost.message, 'via'), 'branch'),
      );
      const gatehouse = again.from;
      // Garbage, an oversize packet, a response for another call, one for another branch.
      await uas.send(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2]), gatehouse);
      await uas.send(Buffer.alloc(20_000, 0x41), gatehouse);
      const other = serialize('SIP/2.0 486 Busy Here', [
        ['Via', header(again.message, 'via')!],
        ['From', header(again.message, 'from')!],
        ['To', `${header(again.message, 'to')};tag=z`],
        ['Call-ID', 'someone-else@127.0.0.1'],
        ['CSeq', header(again.message, 'cseq')!],
      ]);
      await uas.send(other, gatehouse);
      await uas.send(
        other
          .replace('someone-else@127.0.0.1', header(again.message, 'call-id')!)
          .replace(/branch=[^;\r]+/, 'branch=z9hG4bKforged'),
        gatehouse,
      );
      // A request outside any call: 481.
      await uas.send(
        serialize('BYE sip:x@127.0.0.1 SIP/2.0', [
          ['Via', `SIP/2.0/UDP 127.0.0.1:${uas.port};branch=z9hG4bKstray`],
          ['From', '<sip:a@127.0.0.1>;tag=a'],
          ['To', '<sip:b@127.0.0.1>;tag=b'],
          ['Call-ID', 'nobody@127.0.0.1'],
          ['CSeq', '1 BYE'],
        ]),
        gatehouse,
      );
      const stray = await uas.next(
        (m) => m.kind === 'response' && header(m, 'call-id') === 'nobody@127.0.0.1',
      );
      assert.equal(stray.message.kind === 'response' && stray.message.status, 481);
      await sleep(200);
      assert.ok(call.pending(), 'nothing settled by packets that are not this call’s');

      // The real answer; then RTP: keys from another address are ignored, from the callee's count.
      uas.received.length = 0;
      await uas.reply(again, 200, 'OK', {
        toTag: 'ok-tag',
        headers: [['Content-Type', 'application/sdp']],
        body: answerSdp(rtp.address().port),
      });
      await uas.next(isRequest('ACK'));
      const ourRtpPort = Number(/^m=audio (\d+)/m.exec(again.message.body)![1]);
      const stranger = await bind();
      await sendKey(stranger, { address: '127.0.0.1', port: ourRtpPort }, 11, 1000);
      stranger.close();
      await sleep(300);
      assert.ok(call.pending(), 'a # from a stranger is ignored');

      // The prompt arrives as PCMU RTP: 160-byte payloads, sequence +1 and timestamp +160 each.
      const audio: ReturnType<typeof parseRtp>[] = [];
      const listen = (packet: Buffer) => audio.push(parseRtp(packet));
      rtp.on('message', listen);
      await sleep(400);
      rtp.off('message', listen);
      assert.ok(audio.length >= 10, `${audio.length} packets in 400 ms`);
      const first = audio[0]!;
      assert.equal(first.payloadType, 0);
      for (const [i, packet] of audio.entries()) {
        assert.equal(packet!.payload.length, 160);
        assert.equal(packet!.ssrc, first.ssrc);
        assert.equal(packet!.sequence, (first.sequence + i) & 0xffff);
        assert.equal(packet!.timestamp, (first.timestamp + 160 * i) >>> 0);
      }

      // 0 then # : the # repeated three times counts once, the 0 is kept: reported.
      await sendKey(rtp, { address: '127.0.0.1', port: ourRtpPort }, 0, 5000);
      await sendKey(rtp, { address: '127.0.0.1', port: ourRtpPort }, 11, 6000);
      assert.equal(await call.outcome(), 'reported');
      const bye = await uas.next(isRequest('BYE'), 15_000);
      await uas.reply(bye, 200, 'OK');
    } finally {
      await sip.voice.close();
    }
  });

  test('a proxy that Record-Routes: ACK and BYE go through it with Route; a repeated 200 is ACKed again', async () => {
    const sip = await provider(uas.port);
    try {
      const call = await sip.call();
      const invite = await uas.next(isRequest('INVITE'));
      const route = `<sip:127.0.0.1:${uas.port};lr>`;
      const ok = {
        toTag: 'rr-tag',
        headers: [
          ['Record-Route', route],
          ['Content-Type', 'application/sdp'],
        ] as [string, string][],
        body: answerSdp(rtp.address().port),
      };
      // The callee's Contact is a port nothing listens on: requests must follow the route instead.
      const answered = serialize(
        'SIP/2.0 200 OK',
        [
          ...(invite.message.headers.get('via') ?? []).map((v): [string, string] => ['Via', v]),
          ['From', header(invite.message, 'from')!],
          ['To', `${header(invite.message, 'to')};tag=${ok.toTag}`],
          ['Call-ID', header(invite.message, 'call-id')!],
          ['CSeq', header(invite.message, 'cseq')!],
          ['Contact', `<sip:${NUMBER}@127.0.0.1:9>`],
          ...ok.headers,
        ],
        ok.body,
      );
      await uas.send(answered, invite.from);
      const ack = await uas.next(isRequest('ACK'));
      assert.equal((ack.message as SipRequest).uri, `sip:${NUMBER}@127.0.0.1:9`);
      assert.equal(header(ack.message, 'route'), route);
      // The ACK was "lost": the 200 comes again and is ACKed again, the same way.
      await uas.send(answered, invite.from);
      const again = await uas.next(isRequest('ACK'));
      assert.equal(header(again.message, 'cseq'), header(ack.message, 'cseq'));
      await sip.voice.close();
      const bye = await uas.next(isRequest('BYE'));
      assert.equal(header(bye.message, 'route'), route);
      assert.equal(parameter(header(bye.message, 'to'), 'tag'), 'rr-tag');
      assert.equal(await call.outcome(), 'failed');
    } finally {
      await sip.voice.close();
    }
  });

  test('shutting down with a call in progress hangs it up (BYE) and reports it failed', async () => {
    const sip = await provider(uas.port);
    const call = await sip.call();
    const { invite } = await answer('shutdown-tag');
    await sleep(100);
    await sip.voice.close();
    const bye = await uas.next(isRequest('BYE'));
    assert.equal(header(bye.message, 'call-id'), header(invite.message, 'call-id'));
    assert.equal(await call.outcome(), 'failed');
    await assert.rejects(sip.call(), /shutting down/);
  });

  test('the application/dtmf INFO body works too; an INFO outside the dialog gets 481 and counts for nothing', async () => {
    const sip = await provider(uas.port);
    try {
      const call = await sip.call();
      const { invite, toTag } = await answer('dtmf-tag');
      const gatehouse = {
        address: '127.0.0.1',
        port: Number(/:(\d+)>/.exec(header(invite.message, 'contact')!)![1]),
      };
      // Another dialog's tag: 481, and the # does not count.
      await uas.send(
        calleeRequest(invite, 'not-the-tag', 'INFO', 1, [['Content-Type', 'application/dtmf']], '#'),
        gatehouse,
      );
      const refused = await uas.next((m) => m.kind === 'response' && cseqOf(m)?.method === 'INFO');
      assert.equal(refused.message.kind === 'response' && refused.message.status, 481);
      await sleep(100);
      assert.ok(call.pending());
      await uas.send(
        calleeRequest(invite, toTag, 'INFO', 2, [['Content-Type', 'application/dtmf']], '7'),
        gatehouse,
      );
      await uas.send(
        calleeRequest(invite, toTag, 'INFO', 3, [['Content-Type', 'application/dtmf']], '#'),
        gatehouse,
      );
      assert.equal(await call.outcome(), 'wrong_key');
      const bye = await uas.next(isRequest('BYE'), 15_000);
      await uas.reply(bye, 200, 'OK');
    } finally {
      await sip.voice.close();
    }
  });
});

test('the provider does not start without espeak-ng, saying so', async () => {
  await assert.rejects(
    startSipVoice(
      sipVoiceSchema.parse({
        provider: 'sip',
        server: '127.0.0.1:5060',
        from: 'gatehouse',
        localAddress: '127.0.0.1',
        localPort: 0,
        speech: { command: '/nonexistent/espeak-ng' },
      }),
      { logger, onOutcome: async () => {} },
    ),
    (error: Error & { code?: string }) =>
      error.code === 'sip_speech_unavailable' && /espeak-ng/.test(error.message),
  );
});
