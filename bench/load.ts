/**
 * Throughput of the built server (`node bin/gatehouse.js serve`, as `npm start` runs it) under a
 * load generator in this process, over real HTTP on loopback, against bare argon2id
 * verifications per second measured in the same run on the same machine:
 *
 * - full MFA sign-ins: the sign-in page, the password, the number page, the phone's signed list
 *   and approval, the PC's status call that promotes the session, the portal page;
 * - password-only sign-ins (an account without MFA): the page, the password, the portal page.
 *
 * The server's and the load generator's CPU are reported apart (per sign-in, from /proc and
 * process.cpuUsage), and the server's resident memory idle, after the load and with 10,000
 * sessions. Ratios are what to compare across machines.
 *
 *   npm run bench                  (all benchmarks)
 *   node --import tsx bench/load.ts [sqlite|postgres] [--seconds 10] [--concurrency 8]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { systemClock } from '../src/core/clock.ts';
import { argon2idHasher } from '../src/core/passwords/hasher.ts';
import { openStore, type StoreLocation } from '../src/store/open-store.ts';
import { POSTGRES_URL, postgresUnavailable, type TestDatabase } from '../test/helpers/engines.ts';
import { InjectClient } from '../test/helpers/inject-client.ts';
import { addUser, startTestPortal, TEST_PASSWORD } from '../test/helpers/portal.ts';
import { overHttp } from '../test/helpers/portal-process.ts';
import { freeTcpPort } from '../test/helpers/ports.ts';
import { numberOn, pushJourneys } from '../test/helpers/push-journeys.ts';
import type { TestDevice } from '../test/helpers/test-device.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '10' },
    concurrency: { type: 'string', default: '8' },
  },
});
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const TEST_SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');
const CLOCK_TICKS = 100; // USER_HZ on Linux
const SERVER_FLAGS = '--max-semi-space-size=4';

/** A database the bench process and the server process both open: a SQLite file, or a PostgreSQL database of its own. */
async function benchDatabase(
  engine: 'sqlite' | 'postgres',
): Promise<TestDatabase & { env: Record<string, string> }> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
    const location: StoreLocation = { engine: 'sqlite', file: join(dir, 'gatehouse.sqlite') };
    return {
      location,
      env: { GATEHOUSE_DATA_DIR: dir },
      open: () => openStore(location),
      rawEngine: () => {
        throw new Error('not used');
      },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `gatehouse_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  const location: StoreLocation = { engine: 'postgres', url: url.toString() };
  return {
    location,
    env: { GATEHOUSE_DATABASE_URL: url.toString() },
    open: () => openStore(location),
    rawEngine: () => {
      throw new Error('not used');
    },
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

interface Server {
  url: string;
  pid: number;
  cpuSeconds(): number;
  rssMb(): number;
  stop(): Promise<void>;
}

async function startServer(env: Record<string, string>): Promise<Server> {
  const port = await freeTcpPort();
  // As `npm start` and bin/gatehouse.js's first line run it. BENCH_SERVER_FLAGS replaces the
  // flags, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server.
  const flags = (process.env.BENCH_SERVER_FLAGS ?? SERVER_FLAGS).split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...flags, 'bin/gatehouse.js', 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_SECRETS_KEY: TEST_SECRETS_KEY,
      GATEHOUSE_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 200 || child.exitCode !== null) throw new Error('the server did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const pid = child.pid ?? 0;
  return {
    url,
    pid,
    cpuSeconds() {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime + stime
    },
    rssMb() {
      const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
      return Number(line?.[1] ?? 0) / 1024;
    },
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface Measured {
  rate: number;
  serverCpuMs: number;
  clientCpuMs: number;
  count: number;
}

/** Runs `work` in `CONCURRENCY` loops for SECONDS; worker `w` always uses its own account. */
async function measure(server: Server, work: (worker: number) => Promise<void>): Promise<Measured> {
  for (let w = 0; w < CONCURRENCY; w++) await work(w); // warm up
  const serverStart = server.cpuSeconds();
  const clientStart = process.cpuUsage();
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      while (performance.now() < deadline) {
        await work(w);
        count++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const client = process.cpuUsage(clientStart);
  return {
    rate: count / elapsed,
    count,
    serverCpuMs: ((server.cpuSeconds() - serverStart) * 1000) / count,
    clientCpuMs: (client.user + client.system) / 1000 / count,
  };
}

/** Bare argon2id verifications per second with the same concurrency, both cores busy. */
async function bareArgon2(): Promise<{ rate: number; cpuMs: number }> {
  const hasher = argon2idHasher();
  const hash = await hasher.hash(TEST_PASSWORD);
  const deadlineMs = SECONDS * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, () => hasher.verify(hash, TEST_PASSWORD)));
  const cpu = process.cpuUsage();
  const start = performance.now();
  let count = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() - start < deadlineMs) {
        await hasher.verify(hash, TEST_PASSWORD);
        count++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    rate: count / ((performance.now() - start) / 1000),
    cpuMs: (used.user + used.system) / 1000 / count,
  };
}

interface Worker {
  email: string;
  phone: TestDevice;
  plainEmail: string;
}

async function prepare(database: TestDatabase): Promise<Worker[]> {
  const portal = await startTestPortal({ database });
  const flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
  const workers: Worker[] = [];
  for (let w = 0; w < CONCURRENCY; w++) {
    const { email, phone } = await flows.registered();
    const plainEmail = `plain${w}@example.org`;
    await addUser(portal.core, plainEmail);
    workers.push({ email, phone, plainEmail });
  }
  await portal.close();
  return workers;
}

// One keep-alive connection pool per server, as a browser keeps its connections.
const clients = new Map<string, ReturnType<typeof overHttp>>();
function clientOf(server: Server) {
  let client = clients.get(server.url);
  if (!client) {
    client = overHttp(server.url, { keepAlive: true });
    clients.set(server.url, client);
  }
  return client;
}

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`bench: ${what}`);
}

async function fullMfaSignIn(server: Server, worker: Worker): Promise<void> {
  const app = clientOf(server);
  const pc = new InjectClient(app);
  const posted = await pc.post(
    '/signin',
    { email: worker.email, password: TEST_PASSWORD },
    { formPage: '/signin' },
  );
  check(posted.headers.location === '/mfa/verify', `password POST went to ${posted.headers.location}`);
  const number = numberOn((await pc.get('/mfa/verify')).body);
  check(number, 'no number on the verification page');
  worker.phone.retarget(app);
  const [requestId] = await worker.phone.pendingIds();
  check(requestId, 'the phone has no pending request');
  const answer = await worker.phone.answer(requestId, 'approve', number);
  check(answer.json().status === 'approved', `approval answered ${answer.body}`);
  const status = await pc.get('/mfa/verify/status');
  check(status.json().status === 'approved', `status ${status.body}`);
  check((await pc.get(status.json().next)).statusCode === 200, 'portal page not reached');
}

async function passwordSignIn(server: Server, worker: Worker): Promise<void> {
  const pc = new InjectClient(clientOf(server));
  const posted = await pc.post(
    '/signin',
    { email: worker.plainEmail, password: TEST_PASSWORD },
    { formPage: '/signin' },
  );
  check(posted.statusCode === 303, `password POST answered ${posted.statusCode}`);
  check((await pc.get(posted.headers.location as string)).statusCode === 200, 'portal page not reached');
}

/** Opens `count` sessions through the core (the server's database), for the memory figure. */
async function manySessions(database: TestDatabase, email: string, count: number) {
  const portal = await startTestPortal({ database });
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, () =>
        portal.core.flow
          .signIn({ email, password: TEST_PASSWORD, clientAddress: '127.0.0.9' })
          .catch(() => {}),
      ),
    );
  }
  await portal.close();
}

const engines = (positionals.length ? positionals : ['sqlite', 'postgres']) as ('sqlite' | 'postgres')[];
const bare = await bareArgon2();
console.log(
  `bare argon2id verifications (19 MiB, t=2), concurrency ${CONCURRENCY}: ${bare.rate.toFixed(1)}/s (${bare.cpuMs.toFixed(1)} ms CPU each)`,
);
for (const engine of engines) {
  if (engine === 'postgres' && (await postgresUnavailable())) {
    console.log('postgres: skipped (not reachable)');
    continue;
  }
  const database = await benchDatabase(engine);
  try {
    const workers = await prepare(database);
    const server = await startServer(database.env);
    const idleRss = server.rssMb();
    const mfa = await measure(server, (w) => fullMfaSignIn(server, workers[w] as Worker));
    const plain = await measure(server, (w) => passwordSignIn(server, workers[w] as Worker));
    const loadedRss = server.rssMb();
    const report = (name: string, m: Measured) =>
      console.log(
        `${engine}: ${name} ${m.rate.toFixed(1)}/s, ratio to bare argon2id ${(m.rate / bare.rate).toFixed(2)}; ` +
          `server CPU ${m.serverCpuMs.toFixed(1)} ms per sign-in (${(m.serverCpuMs - bare.cpuMs).toFixed(1)} ms beyond the hash), ` +
          `load generator CPU ${m.clientCpuMs.toFixed(1)} ms per sign-in (${m.count} in ${SECONDS} s)`,
      );
    report('full MFA sign-ins', mfa);
    report('password-only sign-ins', plain);
    // On one machine the load generator's CPU is taken from the same cores: even a server that
    // spent nothing beyond the hash could not pass this ratio (the hash's CPU over the hash's and
    // the generator's), which is what the measured ratios are to be read against.
    for (const [name, m] of [
      ['full MFA', mfa],
      ['password-only', plain],
    ] as const)
      console.log(
        `${engine}: ${name} ceiling with no server CPU beyond the hash, at this load generator's cost: ` +
          `ratio ${(bare.cpuMs / (bare.cpuMs + m.clientCpuMs)).toFixed(2)}`,
      );
    await server.stop();
    await manySessions(database, (workers[0] as Worker).plainEmail, 10_000);
    const again = await startServer(database.env);
    const withSessions = again.rssMb();
    // Each session is read once, as when 10,000 users come back.
    await again.stop();
    console.log(
      `${engine}: server resident memory idle ${idleRss.toFixed(0)} MB, after the load ${loadedRss.toFixed(0)} MB, ` +
        `idle with 10,000 sessions in the database ${withSessions.toFixed(0)} MB`,
    );
  } finally {
    await database.drop();
  }
}
