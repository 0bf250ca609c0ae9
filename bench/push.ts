/**
 * Push requests without polling, measured on this machine over real HTTP on loopback:
 * - from the core raising a sign-in request (on the PC's instance) to its arrival on the app's
 *   open event stream (on the phone's instance), p50/p99;
 * - from the app's answer (its POST) to the PC page's server-sent event, p50/p99;
 * - database queries per second with 1,000 idle app streams open (one per device), and the
 *   process's memory per open stream (RSS delta / streams; the clients run in this process too,
 *   so it is an upper bound for the server's share).
 * On SQLite (in-process bus), PostgreSQL (LISTEN/NOTIFY), and two instances on one PostgreSQL
 * schema with LISTEN/NOTIFY and with Redis pub/sub.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../src/core/clock.ts';
import { countingDatabase } from '../test/helpers/counting-database.ts';
import { postgresUnavailable, testDatabase } from '../test/helpers/engines.ts';
import { signedInSession, startTestPortal, type TestPortal } from '../test/helpers/portal.ts';
import { pushJourneys } from '../test/helpers/push-journeys.ts';
import { REDIS_URL, redisTestPrefix, redisUnavailable } from '../test/helpers/redis.ts';
import { listing, SseClient } from '../test/helpers/sse.ts';

const ROUNDS = Number(process.env.BENCH_PUSH_ROUNDS ?? 200);
const IDLE_STREAMS = Number(process.env.BENCH_IDLE_STREAMS ?? 1000);
const IDLE_WINDOW_MS = Number(process.env.BENCH_IDLE_WINDOW_MS ?? 5000);

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))] ?? Number.NaN;
};
const ms = (v: number) => `${v.toFixed(2)} ms`;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

interface Setup {
  name: string;
  skip: () => Promise<string | null>;
  redis?: boolean;
  two: boolean;
  engine: 'sqlite' | 'postgres';
}

const setups: Setup[] = [
  { name: 'SQLite, in-process bus', engine: 'sqlite', two: false, skip: async () => null },
  { name: 'PostgreSQL, LISTEN/NOTIFY', engine: 'postgres', two: false, skip: postgresUnavailable },
  {
    name: 'two instances, PostgreSQL LISTEN/NOTIFY',
    engine: 'postgres',
    two: true,
    skip: postgresUnavailable,
  },
  {
    name: 'two instances on PostgreSQL, Redis pub/sub',
    engine: 'postgres',
    two: true,
    redis: true,
    skip: async () => (await postgresUnavailable()) ?? (await redisUnavailable()),
  },
];

/** An idle stream over node:http (lighter than fetch): resolves once its first event came. */
function idleStream(url: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (response) => {
      if (response.statusCode !== 200) reject(new Error(`stream answered ${response.statusCode}`));
      response.once('data', () => resolve(() => request.destroy()));
      response.on('error', () => {});
    });
    request.on('error', () => {});
  });
}

// Each setup runs in a process of its own, so its RSS is not blurred by the ones before it.
const only = process.env.BENCH_PUSH_SETUP;
if (only === undefined) {
  for (const [index] of setups.entries()) {
    const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_PUSH_SETUP: String(index) },
    });
    if (child.status !== 0) process.exitCode = 1;
  }
}

for (const setup of only === undefined ? [] : setups.slice(Number(only), Number(only) + 1)) {
  const why = await setup.skip();
  if (why) {
    console.log(`${setup.name}: skipped (${why})`);
    continue;
  }
  const database = countingDatabase(testDatabase(setup.engine));
  const eventBus = setup.redis ? { eventBus: { redisUrl: REDIS_URL, prefix: redisTestPrefix() } } : {};
  const pcSide: TestPortal = await startTestPortal({ database, listen: true, ...eventBus });
  const phoneSide: TestPortal = setup.two
    ? await startTestPortal({ database, listen: true, ...eventBus })
    : pcSide;
  try {
    const flows = pushJourneys({
      core: pcSide.core,
      pcApp: pcSide.app,
      phoneApp: phoneSide.app,
      clock: systemClock,
    });
    const { email, phone } = await flows.registered();
    const account = await pcSide.core.accounts.find(email);
    if (!account) throw new Error('no account');
    const device = await SseClient.open(`${phoneSide.url}${await phone.eventsPath()}`);
    await device.next((e) => e.event === 'requests');

    const toApp: number[] = [];
    const toPc: number[] = [];
    for (let i = -5; i < ROUNDS; i++) {
      const { token, active } = await signedInSession(pcSide.core, email);
      const page = await SseClient.open(`${pcSide.url}/mfa/verify/events`, {
        cookie: `gatehouse_session=${token}`,
      });
      if (page.status !== 200) throw new Error(`the PC's stream answered ${page.status}`);
      await page.next((e) => e.event === 'ready');
      const seen = device.events.length;
      const raisedAt = performance.now();
      const request = await pcSide.core.authenticatorApp.signInRequest(
        account,
        active.session,
        '127.0.0.1',
        'Bench',
      );
      await device.next(listing(request.id), seen);
      const arrived = performance.now();
      const answeredAt = performance.now();
      const answer = await phone.answer(request.id, 'approve', request.number);
      if (answer.json().status !== 'approved') throw new Error(`answer: ${answer.body}`);
      await page.next((e) => e.event === 'changed');
      const told = performance.now();
      await page.close();
      if (i >= 0) {
        toApp.push(arrived - raisedAt);
        toPc.push(told - answeredAt);
      }
    }
    await device.close();

    // Idle streams: one per device (rows copied from the registered one: the same key signs for each).
    const original = await phoneSide.store.methods.find(phone.deviceId);
    if (!original) throw new Error('no device');
    const ids: string[] = [];
    for (let i = 0; i < IDLE_STREAMS; i++) {
      const id = randomUUID();
      await phoneSide.store.methods.insert({ ...original, id, isDefault: false });
      ids.push(id);
    }
    const urls: string[] = [];
    const deviceId = phone.deviceId;
    for (const id of ids) {
      phone.deviceId = id;
      urls.push(`${phoneSide.url}${await phone.eventsPath()}`);
    }
    phone.deviceId = deviceId;
    gc();
    await sleep(200);
    const rssBefore = process.memoryUsage().rss;
    const heapBefore = process.memoryUsage().heapUsed;
    const closers: (() => void)[] = [];
    for (let i = 0; i < urls.length; i += 50)
      closers.push(...(await Promise.all(urls.slice(i, i + 50).map(idleStream))));
    await sleep(500);
    gc();
    const rssAfter = process.memoryUsage().rss;
    const heapAfter = process.memoryUsage().heapUsed;
    const before = database.queries();
    const start = performance.now();
    await sleep(IDLE_WINDOW_MS);
    const idleQps = (database.queries() - before) / ((performance.now() - start) / 1000);
    for (const close of closers) close();

    console.log(`${setup.name} (${ROUNDS} requests, ${IDLE_STREAMS} idle streams):`);
    console.log(
      `  request raised -> on the app's stream: p50 ${ms(percentile(toApp, 0.5))}, p99 ${ms(percentile(toApp, 0.99))}`,
    );
    console.log(
      `  app's answer -> PC page's event:      p50 ${ms(percentile(toPc, 0.5))}, p99 ${ms(percentile(toPc, 0.99))}`,
    );
    console.log(
      `  queries/s with ${IDLE_STREAMS} idle streams: ${idleQps.toFixed(2)} (over ${IDLE_WINDOW_MS} ms)`,
    );
    console.log(
      `  memory per open stream (RSS delta / ${IDLE_STREAMS}): ${((rssAfter - rssBefore) / IDLE_STREAMS / 1024).toFixed(1)} KiB (JS heap ${((heapAfter - heapBefore) / IDLE_STREAMS / 1024).toFixed(1)} KiB)`,
    );
  } finally {
    if (phoneSide !== pcSide) await phoneSide.close();
    await pcSide.close();
    await database.drop();
  }
}
