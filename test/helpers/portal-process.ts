import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';

const BIN = new URL('../../bin/gatehouse.js', import.meta.url).pathname;

/**
 * The real `gatehouse serve` in a child process, which a test may freeze (SIGSTOP) and kill -9,
 * then start again on the same data and port: what a crash of one instance looks like.
 */
export interface PortalProcess {
  readonly url: string;
  start(): Promise<void>;
  /** Freezes the process: requests sent now reach its socket but are not handled. */
  freeze(): void;
  /** kill -9, and waits until it is gone. */
  kill(): Promise<void>;
  /** What the process wrote to standard error (for failure messages). */
  stderr(): string;
  /** What it wrote to standard output: its log lines. */
  stdout(): string;
}

export function portalProcess(port: number, env: Record<string, string>): PortalProcess {
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let errors = '';
  let output = '';
  return {
    url,
    async start() {
      if (child) throw new Error('already running');
      const started = spawn(process.execPath, [BIN, 'serve'], {
        env: {
          PATH: process.env.PATH ?? '',
          GATEHOUSE_PORT: String(port),
          GATEHOUSE_HOST: '127.0.0.1',
          GATEHOUSE_COOKIE_SECURE: 'false',
          GATEHOUSE_LOG_LEVEL: 'warn',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = started;
      started.stderr?.on('data', (d) => (errors += d));
      started.stdout?.on('data', (d) => (output += d));
      started.on('exit', () => {
        if (child === started) child = undefined;
      });
      // Started when it answers /readyz (tsx compiles on start: allow it a minute on a busy machine).
      for (let waited = 0; waited < 60_000; waited += 100) {
        if (child !== started) throw new Error(`gatehouse serve exited:\n${errors}`);
        const ready = await send(url, { method: 'GET', url: '/readyz' }).then(
          (r) => r.statusCode === 200,
          () => false,
        );
        if (ready) return;
        await sleep(100);
      }
      throw new Error(`gatehouse serve did not become ready within a minute:\n${errors}`);
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    async kill() {
      const running = child;
      if (!running) return;
      const gone = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await gone;
    },
    stderr: () => errors,
    stdout: () => output,
  };
}

interface InjectLike {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  payload?: string | object;
  remoteAddress?: string;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | undefined>;
  body: string;
  cookies: { name: string; value: string; path?: string; expires?: Date; secure?: boolean }[];
  json(): unknown;
}

let sent = 0;
/** How many requests have been written out in full so far (a test waits for its own to go). */
export const requestsSent = () => sent;

/**
 * One request, by default over a new connection (no keep-alive: a killed server leaves no stale
 * socket); a benchmark passes a keep-alive agent, as browsers keep their connections.
 */
export function send(base: string, options: InjectLike, agent: Agent | false = false): Promise<HttpResponse> {
  const payload =
    options.payload === undefined
      ? undefined
      : typeof options.payload === 'string'
        ? options.payload
        : JSON.stringify(options.payload);
  const headers: Record<string, string> = { ...options.headers };
  if (payload !== undefined && typeof options.payload !== 'string')
    headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(options.url, base), {
      method: options.method ?? 'GET',
      headers,
      agent,
    });
    req.on('error', reject);
    req.on('finish', () => sent++);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('error', reject);
      res.on('end', () => {
        const flat: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(res.headers)) flat[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({
          statusCode: res.statusCode ?? 0,
          headers: flat,
          body,
          cookies: (res.headers['set-cookie'] ?? []).map(parseSetCookie),
          json: () => JSON.parse(body),
        });
      });
    });
    req.end(payload);
  });
}

function parseSetCookie(line: string) {
  const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
  const index = pair.indexOf('=');
  const cookie: HttpResponse['cookies'][number] = {
    name: pair.slice(0, index),
    value: pair.slice(index + 1),
  };
  for (const attribute of attributes) {
    const [key = '', value = ''] = attribute.split('=');
    if (/^path$/i.test(key)) cookie.path = value;
    if (/^expires$/i.test(key)) cookie.expires = new Date(value);
    if (/^max-age$/i.test(key) && Number(value) <= 0) cookie.expires = new Date(0);
    if (/^secure$/i.test(key)) cookie.secure = true;
  }
  return cookie;
}

/**
 * Stands in for a Fastify app where the test helpers only call `inject` (InjectClient,
 * TestDevice): the same calls, sent over HTTP to the server process.
 */
export function overHttp(base: string, options: { keepAlive?: boolean } = {}): FastifyInstance {
  const agent = options.keepAlive ? new Agent({ keepAlive: true, maxSockets: 64 }) : false;
  return { inject: (request: InjectLike) => send(base, request, agent) } as unknown as FastifyInstance;
}
