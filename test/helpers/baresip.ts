import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sipVoiceSchema } from '../../src/channels/telephony/sip/settings.ts';
import { freePort } from './ports.ts';

/** An event baresip pushes over ctrl_tcp (CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED…). */
export interface BaresipEvent {
  type: string;
  [key: string]: unknown;
}

export interface Baresip {
  /** Where its SIP listens (UDP): it answers any user at this address. */
  sipPort: number;
  events: BaresipEvent[];
  /** A ctrl_tcp command, e.g. ('sndcode', '#'); resolves with baresip's response. */
  command(command: string, params?: string): Promise<{ ok: boolean; data?: string }>;
  /** The first event of this type since the last `forgetEvents`. */
  waitForEvent(type: string, timeoutMs?: number): Promise<BaresipEvent>;
  forgetEvents(): void;
  /**
   * The call is up and audio flows both ways: baresip only sends key events from its running audio
   * stream, so a key pressed at CALL_ESTABLISHED itself can be lost.
   */
  waitUntilTalking(): Promise<void>;
  /** The audio baresip decoded from the calls since the last time (sndfile's "-dec.wav" files). */
  receivedAudio(): Buffer[];
  close(): Promise<void>;
}

/** Retries `attempt` until it resolves, for at most `timeoutMs`; the last error otherwise. */
async function retry<T>(attempt: () => Promise<T> | T, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > end) throw error;
      await sleep(20);
    }
  }
}

/**
 * `port` and the next one are free for both UDP and TCP: baresip binds the SIP port and, for TLS,
 * a TCP socket on the next one (seen failing with "tcp: sock_bind: Address already in use" when
 * only UDP was checked).
 */
async function portPairFree(port: number): Promise<boolean> {
  for (const p of [port, port + 1]) {
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(p, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    const tcpFree = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(p, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (!udpFree || !tcpFree) return false;
  }
  return true;
}

/**
 * baresip (Debian's baresip-core) as the phone being called, headless on 127.0.0.1: G.711 only,
 * a sine wave as its microphone, no sound card, controlled over ctrl_tcp. baresip 1.0 answers only
 * the users it has an account for (404 otherwise), so each number called gets an account. `answerMode: 'auto'`
 * answers every call; 'manual' lets it ring so the test can reject it (`hangup`).
 */
export async function startBaresip(
  options: { answerMode?: 'auto' | 'manual'; numbers?: string[] } = {},
): Promise<Baresip> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-baresip-'));
  let sipPort = await freePort();
  while (!(await portPairFree(sipPort))) sipPort = await freePort();
  const ctrlPort = await freePort();
  const rtpFirst = 30000 + 2 * Math.floor(Math.random() * 4000);
  writeFileSync(
    join(dir, 'config'),
    [
      'poll_method epoll',
      `sip_listen 127.0.0.1:${sipPort}`,
      'net_interface 127.0.0.1',
      'sip_transports udp',
      'audio_player aubridge,nil',
      'audio_source ausine,440',
      'audio_alert aubridge,nil',
      'ausrc_srate 48000',
      'auplay_srate 48000',
      'ausrc_channels 2',
      `rtp_ports ${rtpFirst}-${rtpFirst + 20}`,
      'dns_server 127.0.0.1:53',
      'module_path /usr/lib/baresip/modules',
      'module g711.so',
      'module ausine.so',
      'module aubridge.so',
      'module sndfile.so',
      `snd_path ${dir}`,
      'module_app account.so',
      'module_app menu.so',
      'module_app ctrl_tcp.so',
      `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'accounts'),
    (options.numbers ?? ['+447700900123'])
      .map(
        (number) =>
          `<sip:${number}@127.0.0.1:${sipPort};transport=udp>;regint=0;answermode=${options.answerMode ?? 'auto'};audio_codecs=PCMU\n`,
      )
      .join(''),
  );
  const child: ChildProcess = spawn('baresip', ['-f', dir, '-v', '-s'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never left behind, even when a test process ends abruptly.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < 200_000) output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const events: BaresipEvent[] = [];
  const waiting = new Map<string, (response: { ok: boolean; data?: string }) => void>();
  let control: Socket | undefined;
  await retry(
    () =>
      new Promise<void>((resolve, reject) => {
        const socket = createConnection(ctrlPort, '127.0.0.1');
        socket.once('connect', () => {
          control = socket;
          resolve();
        });
        socket.once('error', reject);
      }),
    5000,
  ).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`baresip did not start: ${String(error)}\n${output}`);
  });
  let buffer = Buffer.alloc(0);
  control!.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const colon = buffer.indexOf(':');
      if (colon < 0) break;
      const length = Number(buffer.subarray(0, colon).toString('ascii'));
      if (buffer.length < colon + 1 + length + 1) break;
      const json = JSON.parse(buffer.subarray(colon + 1, colon + 1 + length).toString('utf8'));
      buffer = buffer.subarray(colon + 1 + length + 1);
      if (json.event) events.push(json);
      else if (json.response) {
        waiting.get(json.token)?.(json);
        waiting.delete(json.token);
      }
    }
  });
  let tokens = 0;

  const baresip: Baresip = {
    sipPort,
    events,
    command(command, params) {
      const token = `t${++tokens}`;
      const json = JSON.stringify({ command, ...(params === undefined ? {} : { params }), token });
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`baresip did not answer ${command}`)), 5000);
        waiting.set(token, (response) => {
          clearTimeout(timer);
          resolve(response);
        });
        control!.write(`${Buffer.byteLength(json)}:${json},`);
      });
    },
    async waitForEvent(type, timeoutMs = 10_000) {
      return retry(() => {
        const found = events.find((e) => e.type === type);
        if (!found)
          throw new Error(`no ${type} from baresip yet; events: ${events.map((e) => e.type).join(', ')}`);
        return found;
      }, timeoutMs);
    },
    async waitUntilTalking() {
      const established = await baresip.waitForEvent('CALL_ESTABLISHED');
      await baresip.waitForEvent('CALL_RTPESTAB');
      // Commands go to the "current" account: make it the one called (one account per number).
      if (typeof established.accountaor === 'string') await baresip.command('uafind', established.accountaor);
      await sleep(300);
    },
    forgetEvents() {
      events.length = 0;
    },
    receivedAudio() {
      // Read once: each call's recording is handed out and removed.
      return readdirSync(dir)
        .filter((name) => name.endsWith('.wav'))
        .flatMap((name) => {
          const audio = readFileSync(join(dir, name));
          rmSync(join(dir, name));
          return name.endsWith('-dec.wav') ? [audio] : [];
        });
    },
    async close() {
      process.off('exit', killOnExit);
      control?.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return baresip;
}

/**
 * The SIP provider's settings for calling a test phone on loopback at `sipPort`; each test file
 * takes its own RTP range so that files never share ports.
 */
export function testSipSettings(sipPort: number, rtpFirst: number, extra: Record<string, unknown> = {}) {
  return sipVoiceSchema.parse({
    provider: 'sip',
    server: `127.0.0.1:${sipPort}`,
    from: '+441632960001',
    displayName: 'Test Trust',
    localAddress: '127.0.0.1',
    localPort: 0,
    rtpPorts: { first: rtpFirst, last: rtpFirst + 998 },
    ...extra,
  });
}
