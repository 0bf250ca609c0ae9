import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { outcomeOfDigits } from '../../src/channels/telephony/keys.ts';
import { TelephonyError } from '../../src/channels/telephony/provider.ts';
import {
  encodeMulaw,
  linearToMulaw,
  mulawToLinear,
  parseWav,
  resample,
  wavToPcmu,
} from '../../src/channels/telephony/sip/audio.ts';
import {
  digestAuthorization,
  digestResponse,
  parseDigestChallenge,
} from '../../src/channels/telephony/sip/digest.ts';
import {
  cseqOf,
  header,
  hostPortOf,
  parameter,
  parseMessage,
  responseTo,
  serialize,
  uriOf,
} from '../../src/channels/telephony/sip/message.ts';
import { buildRtp, keyOfInfo, parseRtp, parseTelephoneEvent } from '../../src/channels/telephony/sip/rtp.ts';
import { parseSdpAnswer, sdpOffer } from '../../src/channels/telephony/sip/sdp.ts';
import { synthesize } from '../../src/channels/telephony/sip/speech.ts';

/** A 16-bit PCM WAV as espeak-ng writes it to a pipe (data size unknown: 0x7ffff000). */
function wav(samples: number[], sampleRate: number, channels = 1, streaming = false): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => {
    data.writeInt16LE(s, 2 * i);
  });
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'ascii');
  head.writeUInt32LE(streaming ? 0x7ffff024 : 36 + data.length, 4);
  head.write('WAVEfmt ', 8, 'ascii');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20);
  head.writeUInt16LE(channels, 22);
  head.writeUInt32LE(sampleRate, 24);
  head.writeUInt32LE(sampleRate * channels * 2, 28);
  head.writeUInt16LE(channels * 2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36, 'ascii');
  head.writeUInt32LE(streaming ? 0x7ffff000 : data.length, 40);
  return Buffer.concat([head, data]);
}

const sine = (frequency: number, rate: number, seconds: number, amplitude = 10_000) =>
  Array.from({ length: Math.round(rate * seconds) }, (_, i) =>
    Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / rate)),
  );

const rms = (samples: ArrayLike<number>, from = 0, to = samples.length) => {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! ** 2;
  return Math.sqrt(sum / (to - from));
};

describe('G.711 μ-law', () => {
  test('the standard values: 0 is 0xFF, the extremes are 0x80 and 0x00, and they decode to ±32124', () => {
    assert.equal(linearToMulaw(0), 0xff);
    assert.equal(linearToMulaw(-1), 0x7f);
    assert.equal(linearToMulaw(32767), 0x80);
    assert.equal(linearToMulaw(-32768), 0x00);
    assert.equal(linearToMulaw(1000), 0xce);
    assert.equal(linearToMulaw(-1000), 0x4e);
    assert.equal(mulawToLinear(0x80), 32124);
    assert.equal(mulawToLinear(0x00), -32124);
    assert.equal(mulawToLinear(0xff), 0);
    assert.equal(mulawToLinear(0xce), 988);
  });

  test('every code survives decode then encode, and the error stays within half a step', () => {
    for (let code = 0; code < 256; code++) {
      if (code === 0x7f) continue; // "-0" decodes to 0, which encodes as 0xFF
      assert.equal(linearToMulaw(mulawToLinear(code)), code, `code ${code.toString(16)}`);
    }
    for (let sample = -32000; sample <= 32000; sample += 37) {
      const error = Math.abs(mulawToLinear(linearToMulaw(sample)) - sample);
      assert.ok(error <= Math.max(8, Math.abs(sample) / 16), `${sample}: error ${error}`);
    }
  });

  test('encodeMulaw encodes each sample, rounding and clipping', () => {
    assert.deepEqual([...encodeMulaw(Float64Array.from([0, 0.4, 40000, -40000]))], [0xff, 0xff, 0x80, 0x00]);
  });
});

describe('the synthesiser WAV to 8 kHz', () => {
  test('a WAV written to a pipe (size unknown) is read to its end; stereo is mixed down', () => {
    const mono = parseWav(wav([1, -2, 3], 22050, 1, true));
    assert.deepEqual([mono.sampleRate, [...mono.samples]], [22050, [1, -2, 3]]);
    const stereo = parseWav(wav([100, 300, -100, -300], 16000, 2));
    assert.deepEqual([...stereo.samples], [200, -200]);
    assert.throws(() => parseWav(Buffer.from('not a wav file at all')), /not a WAV/);
  });

  test('resampling 22 050 Hz to 8 000 Hz keeps a 1 kHz tone and removes one above 4 kHz', () => {
    const low = resample(Int16Array.from(sine(1000, 22050, 1)), 22050, 8000);
    assert.equal(low.length, 8000);
    // The level of the tone is kept (away from the edges)…
    assert.ok(Math.abs(rms(low, 100, 7900) - 10_000 / Math.SQRT2) < 200, `rms ${rms(low, 100, 7900)}`);
    // …and it is still 1 kHz: 2 000 zero crossings a second.
    let crossings = 0;
    for (let i = 101; i < 7900; i++) if (Math.sign(low[i]!) !== Math.sign(low[i - 1]!)) crossings++;
    assert.ok(Math.abs(crossings - 1950) < 10, `crossings ${crossings}`);
    // A 6 kHz tone cannot be carried at 8 kHz: it must not fold back as a 2 kHz one.
    const high = resample(Int16Array.from(sine(6000, 22050, 1)), 22050, 8000);
    assert.ok(rms(high, 100, 7900) < 10_000 / Math.SQRT2 / 30, `rms ${rms(high, 100, 7900)}`);
  });

  test('wavToPcmu: one second of speech-rate audio is 8 000 μ-law bytes', () => {
    const pcmu = wavToPcmu(wav(sine(440, 22050, 1), 22050));
    assert.equal(pcmu.length, 8000);
  });

  test('espeak-ng speaks the prompt into a few seconds of PCMU; without it, a clear error', async () => {
    const options = { command: 'espeak-ng', voice: 'en-gb', wordsPerMinute: 150 };
    const audio = await synthesize('This is Test Trust sign-in verification.', options);
    assert.ok(audio.length > 8000 && audio.length < 8000 * 10, `${audio.length} bytes`);
    const level = rms(Array.from(audio, mulawToLinear));
    assert.ok(level > 300, `speech, not silence (rms ${level})`);
    // Text that looks like an option is spoken, not obeyed.
    assert.ok((await synthesize('--help', options)).length > 1000);
    await assert.rejects(
      synthesize('Hello', { ...options, command: 'espeak-ng-not-installed' }),
      (error: TelephonyError) =>
        error instanceof TelephonyError &&
        error.code === 'sip_speech_unavailable' &&
        /apt-get install espeak-ng/.test(error.message),
    );
  });
});

describe('SDP', () => {
  test('the offer: PCMU and telephone-event 101 (0-15), 20 ms packets, at our address and port', () => {
    const offer = sdpOffer('192.0.2.20', 16384, '42');
    assert.ok(offer.endsWith('\r\n'));
    for (const line of [
      'v=0',
      'o=gatehouse 42 1 IN IP4 192.0.2.20',
      'c=IN IP4 192.0.2.20',
      'm=audio 16384 RTP/AVP 0 101',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=ptime:20',
    ]) {
      assert.ok(offer.split('\r\n').includes(line), line);
    }
  });

  test("the answer: baresip's, another event payload type, and unusable ones", () => {
    const baresip = [
      'v=0',
      'o=- 1 2 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 40030 RTP/AVP 0 101',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=sendrecv',
      '',
    ].join('\r\n');
    assert.deepEqual(parseSdpAnswer(baresip), { address: '127.0.0.1', port: 40030, eventPayloadType: 101 });
    const mediaLevel =
      'v=0\nc=IN IP4 192.0.2.1\nm=audio 5004 RTP/AVP 0 96\nc=IN IP4 192.0.2.9\na=rtpmap:96 telephone-event/8000\n';
    assert.deepEqual(parseSdpAnswer(mediaLevel), { address: '192.0.2.9', port: 5004, eventPayloadType: 96 });
    assert.deepEqual(parseSdpAnswer('v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 5004 RTP/AVP 0\r\n'), {
      address: '192.0.2.1',
      port: 5004,
      eventPayloadType: undefined,
    });
    assert.equal(
      parseSdpAnswer('v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 0 RTP/AVP 0\r\n'),
      undefined,
      'refused',
    );
    assert.equal(
      parseSdpAnswer('v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 5004 RTP/AVP 8\r\n'),
      undefined,
      'PCMA only',
    );
    assert.equal(parseSdpAnswer('v=0\r\nm=audio 5004 RTP/AVP 0\r\n'), undefined, 'no address');
    assert.equal(parseSdpAnswer(''), undefined);
  });
});

describe('digest authentication', () => {
  test("RFC 2617's example (MD5, qop=auth) gives its response", () => {
    const challenge = parseDigestChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    assert.deepEqual(challenge, {
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
      algorithm: 'MD5',
      qop: 'auth',
    });
    const input = {
      username: 'Mufasa',
      password: 'Circle Of Life',
      method: 'GET',
      uri: '/dir/index.html',
      cnonce: '0a4f113b',
      nc: 1,
    };
    assert.equal(digestResponse(challenge!, input), '6629fae49393a05397450978507c4ef1');
    const header = digestAuthorization(challenge!, input);
    assert.match(header, /^Digest username="Mufasa", realm="testrealm@host.com", /);
    assert.match(header, /response="6629fae49393a05397450978507c4ef1"/);
    assert.match(header, /qop=auth, nc=00000001, cnonce="0a4f113b"/);
    assert.match(header, /opaque="5ccc069c403ebaf9f0171e9517f40e41"/);
    assert.doesNotMatch(header, /Circle/);
  });

  test("RFC 7616's example, in MD5 and SHA-256", () => {
    const common =
      'realm="http-auth@example.org", qop="auth, auth-int", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
    const input = {
      username: 'Mufasa',
      password: 'Circle of Life',
      method: 'GET',
      uri: '/dir/index.html',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      nc: 1,
    };
    const md5 = parseDigestChallenge(`Digest ${common}, algorithm=MD5`)!;
    assert.equal(digestResponse(md5, input), '8ca523f5e9506fed4657c9700eebdbec');
    const sha = parseDigestChallenge(`Digest ${common}, algorithm=SHA-256`)!;
    assert.equal(sha.algorithm, 'SHA-256');
    assert.equal(
      digestResponse(sha, input),
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });

  test('without qop (RFC 2069 style), and challenges that cannot be answered', () => {
    const plain = parseDigestChallenge('Digest realm="asterisk", nonce="abc"')!;
    assert.equal(plain.qop, undefined);
    assert.doesNotMatch(
      digestAuthorization(plain, { username: 'u', password: 'p', method: 'INVITE', uri: 'sip:x@y' }),
      /qop|nc=|cnonce/,
    );
    assert.equal(parseDigestChallenge('Basic realm="x"'), undefined);
    assert.equal(parseDigestChallenge('Digest realm="x", nonce="n", algorithm=SHA-512-256'), undefined);
    assert.equal(parseDigestChallenge('Digest realm="x", nonce="n", qop="auth-int"'), undefined);
    assert.equal(parseDigestChallenge('Digest realm="x"'), undefined);
  });
});

describe('RTP and the keys', () => {
  test('a packet built and read back; CSRC, extension and padding are skipped; not RTP is undefined', () => {
    const packet = buildRtp(
      { payloadType: 0, marker: true, sequence: 65535, timestamp: 0xfffffff0, ssrc: 0x12345678 },
      Buffer.alloc(160, 0xff),
    );
    assert.equal(packet.length, 172);
    assert.deepEqual([packet[0], packet[1]], [0x80, 0x80]);
    const read = parseRtp(packet)!;
    assert.deepEqual(
      [read.payloadType, read.marker, read.sequence, read.timestamp, read.ssrc, read.payload.length],
      [0, true, 65535, 0xfffffff0, 0x12345678, 160],
    );
    // Version 2, padding, extension, one CSRC, PT 101.
    const fancy = Buffer.from([
      0xb1, 101, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, /* CSRC */ 0, 0, 0, 9, /* ext */ 0xbe, 0xde, 0, 1, 1, 2, 3, 4,
      /* payload */ 11, 0x8a, 0x05, 0xa0, /* padding */ 0, 0, 3,
    ]);
    assert.deepEqual([...parseRtp(fancy)!.payload], [11, 0x8a, 0x05, 0xa0]);
    assert.equal(parseRtp(Buffer.from([0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), undefined, 'version 1');
    assert.equal(parseRtp(Buffer.alloc(5)), undefined);
    assert.equal(
      parseRtp(Buffer.from([0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9])),
      undefined,
      'extension past the end',
    );
  });

  test('RFC 4733 events: # with the end bit, volume and duration; 0-9, *, A-D; others are not keys', () => {
    assert.deepEqual(parseTelephoneEvent(Buffer.from([11, 0x8a, 0x05, 0xa0])), {
      key: '#',
      end: true,
      volume: 10,
      duration: 1440,
    });
    assert.equal(parseTelephoneEvent(Buffer.from([0, 0x0a, 0, 160]))?.end, false);
    assert.equal(parseTelephoneEvent(Buffer.from([10, 0, 0, 0]))?.key, '*');
    assert.equal(parseTelephoneEvent(Buffer.from([15, 0, 0, 0]))?.key, 'D');
    assert.equal(parseTelephoneEvent(Buffer.from([16, 0x80, 0, 0])), undefined, 'flash');
    assert.equal(parseTelephoneEvent(Buffer.from([11, 0x80])), undefined, 'too short');
  });

  test('SIP INFO bodies: application/dtmf-relay and application/dtmf', () => {
    assert.equal(keyOfInfo('application/dtmf-relay', 'Signal=#\r\nDuration=160\r\n'), '#');
    assert.equal(keyOfInfo('Application/DTMF-Relay; charset=x', 'Signal= 5\r\nDuration=160'), '5');
    assert.equal(keyOfInfo('application/dtmf-relay', 'Signal=11\r\nDuration=160'), '#');
    assert.equal(keyOfInfo('application/dtmf', '#'), '#');
    assert.equal(keyOfInfo('application/dtmf', '0\r\n'), '0');
    assert.equal(keyOfInfo('text/plain', '#'), undefined);
    assert.equal(keyOfInfo('application/dtmf-relay', 'Signal=##'), undefined);
    assert.equal(keyOfInfo('application/dtmf-relay', 'Duration=160'), undefined);
  });

  test('the keys mean what they mean on Twilio: # verifies, 0# reports, anything else is wrong', () => {
    assert.equal(outcomeOfDigits(''), 'confirmed');
    assert.equal(outcomeOfDigits('#'), 'confirmed');
    assert.equal(outcomeOfDigits('0'), 'reported');
    assert.equal(outcomeOfDigits('0#'), 'reported');
    assert.equal(outcomeOfDigits('5'), 'wrong_key');
    assert.equal(outcomeOfDigits('00#'), 'wrong_key');
    assert.equal(outcomeOfDigits(undefined), undefined);
  });
});

describe('SIP messages', () => {
  const invite200 = serialize(
    'SIP/2.0 200 Answering',
    [
      ['v', 'SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKabc;rport=5062'],
      ['f', '"Test" <sip:+441632960001@127.0.0.1>;tag=ours'],
      ['t', '<sip:+447700900123@127.0.0.1:5070>;tag=theirs'],
      ['i', 'call-1@127.0.0.1'],
      ['CSeq', '7 INVITE'],
      ['m', '<sip:+447700900123@127.0.0.1:5070;transport=udp>'],
      ['Subject', 'a folded'],
      ['Content-Type', 'application/sdp'],
    ],
    'v=0\r\n',
  ).replace('Subject: a folded', 'Subject: a folded\r\n  header');

  test('a response with compact headers, folding and a body', () => {
    const message = parseMessage(Buffer.from(invite200))!;
    assert.equal(message.kind, 'response');
    assert.equal(message.kind === 'response' && message.status, 200);
    assert.equal(header(message, 'call-id'), 'call-1@127.0.0.1');
    assert.equal(header(message, 'subject'), 'a folded header');
    assert.equal(parameter(header(message, 'to'), 'tag'), 'theirs');
    assert.equal(parameter(header(message, 'from'), 'tag'), 'ours');
    assert.equal(parameter(header(message, 'via'), 'branch'), 'z9hG4bKabc');
    assert.deepEqual(cseqOf(message), { number: 7, method: 'INVITE' });
    assert.equal(uriOf(header(message, 'contact')!), 'sip:+447700900123@127.0.0.1:5070;transport=udp');
    assert.deepEqual(hostPortOf('sip:+447700900123@127.0.0.1:5070;transport=udp'), {
      host: '127.0.0.1',
      port: 5070,
    });
    assert.deepEqual(hostPortOf('sip:pbx.example.org;lr'), { host: 'pbx.example.org', port: 5060 });
    assert.equal(hostPortOf('tel:+447700900123'), undefined);
    assert.equal(message.body, 'v=0\r\n');
  });

  test('garbage, truncated bodies, oversize packets and bad start lines are dropped', () => {
    assert.equal(parseMessage(Buffer.from('hello')), undefined);
    assert.equal(parseMessage(Buffer.from([0xde, 0xad, 0xbe, 0xef])), undefined);
    assert.equal(parseMessage(Buffer.alloc(0)), undefined);
    assert.equal(
      parseMessage(Buffer.from(invite200.replace('Content-Length: 5', 'Content-Length: 500'))),
      undefined,
    );
    assert.equal(parseMessage(Buffer.from(`${invite200}${'x'.repeat(9000)}`)), undefined);
    assert.equal(parseMessage(Buffer.from('HTTP/1.1 200 OK\r\nCall-ID: x\r\n\r\n')), undefined);
    assert.equal(parseMessage(Buffer.from('SIP/2.0 200 OK\r\nno colon here\r\n\r\n')), undefined);
  });

  test('a response to a request copies Via, From, To, Call-ID and CSeq', () => {
    const info = parseMessage(
      Buffer.from(
        serialize(
          'INFO sip:gatehouse@127.0.0.1:5062 SIP/2.0',
          [
            ['Via', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKinfo'],
            ['From', '<sip:+447700900123@127.0.0.1>;tag=theirs'],
            ['To', '<sip:+441632960001@127.0.0.1>;tag=ours'],
            ['Call-ID', 'call-1'],
            ['CSeq', '2 INFO'],
            ['Content-Type', 'application/dtmf-relay'],
          ],
          'Signal=#\r\nDuration=160\r\n',
        ),
      ),
    )!;
    assert.equal(info.kind === 'request' && info.method, 'INFO');
    assert.equal(info.body, 'Signal=#\r\nDuration=160\r\n');
    const ok = responseTo(info as Extract<typeof info, { kind: 'request' }>, 200, 'OK');
    assert.match(ok, /^SIP\/2\.0 200 OK\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:5070;branch=z9hG4bKinfo\r\n/);
    assert.match(ok, /\r\nCSeq: 2 INFO\r\n/);
    assert.match(ok, /\r\nContent-Length: 0\r\n\r\n$/);
  });
});
