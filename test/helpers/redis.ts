import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { freeTcpPort } from './ports.ts';

export const REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

let reachable: Promise<string | null> | undefined;

/** null when the shared Redis answers; otherwise why not (in CI, a failure rather than a skip). */
export function redisUnavailable(): Promise<string | null> {
  reachable ??= (async () => {
    const client = new Redis(REDIS_URL, {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return null;
    } catch (error) {
      if (process.env.CI)
        throw new Error(`Redis at ${REDIS_URL} is required in CI: ${(error as Error).message}`);
      return `Redis at ${REDIS_URL} is not reachable (${(error as Error).message})`;
    } finally {
      client.disconnect();
    }
  })();
  return reachable;
}

/** Channel names of one test run, apart from every other test's on the shared Redis. */
export const redisTestPrefix = () => `gatehouse-test-${randomBytes(6).toString('hex')}:`;

/**
 * A redis-server of the test's own (no persistence, its own port), which the test may kill and
 * start again on the same port, never touching the shared one.
 */
export async function privateRedis() {
  const port = await freeTcpPort();
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child?.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      child?.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
    });
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
    async restart() {
      await stop();
      await start();
    },
  };
}
