/**
 * Password sign-in latency (p50, p99) at concurrency 4 on PostgreSQL with 10,000 accounts and with
 * BENCH_SCALE_ROWS (default 1,500,000) accounts, in the same run on the same machine: they should
 * differ by less than 10% (a sign-in looks its account up by the unique email index; nothing scans
 * the accounts). The accounts are written by one INSERT ... SELECT each (generate_series), with
 * one group each and one argon2id hash at the current parameters. The sizes take turns, in rounds,
 * so that other load on the machine falls on both alike.
 *
 *   BENCH_SCALE_ROWS=200000 BENCH_SCALE_SIGNINS=200 node --import tsx bench/scale.ts
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { type Core, createCore, defaultCoreSettings } from '../src/core/index.ts';
import { argon2idHasher } from '../src/core/passwords/hasher.ts';
import type { Store } from '../src/core/store.ts';
import { postgresUnavailable, type TestDatabase, testDatabase } from '../test/helpers/engines.ts';
import { TEST_PASSWORD, TEST_SECRETS } from '../test/helpers/portal.ts';

const LARGE = Number(process.env.BENCH_SCALE_ROWS ?? 1_500_000);
const SMALL = 10_000;
const SIGNINS = Number(process.env.BENCH_SCALE_SIGNINS ?? 400);
const CONCURRENCY = 4;
const ROUND = 50;

const unavailable = await postgresUnavailable();
if (unavailable) {
  console.log(`scale bench: skipped (${unavailable})`);
  process.exit(0);
}

const passwordHash = await argon2idHasher().hash(TEST_PASSWORD);

interface Sized {
  size: number;
  database: TestDatabase;
  store: Store;
  core: Core;
  latencies: number[];
}

async function populated(size: number): Promise<Sized> {
  const database = testDatabase('postgres');
  const store = await database.open(); // migrates
  const raw = database.rawEngine();
  const start = performance.now();
  await sql`INSERT INTO groups (name, mfa_excluded, exclusion_message)
    SELECT 'ward ' || g, 0, NULL FROM generate_series(0, 499) AS g`.execute(raw.db);
  await sql`INSERT INTO accounts (id, email, display_name, password_hash, shared_mailbox, mfa_enabled, mfa_enabled_at, created_at)
    SELECT 'acct-' || i, 'user' || i || '@trust' || (i % 200) || '.nhs.example', 'User ' || i, ${passwordHash}, 0, 0, NULL, 0
    FROM generate_series(0, ${size - 1}::int) AS i`.execute(raw.db);
  await sql`INSERT INTO account_groups (account_id, group_name)
    SELECT 'acct-' || i, 'ward ' || (i % 500) FROM generate_series(0, ${size - 1}::int) AS i`.execute(raw.db);
  await sql`ANALYZE`.execute(raw.db);
  const plan = await sql<{
    'QUERY PLAN': string;
  }>`EXPLAIN SELECT * FROM accounts WHERE email = ${'user1@trust1.nhs.example'}`.execute(raw.db);
  await raw.destroy();
  console.log(
    `${size} accounts written in ${((performance.now() - start) / 1000).toFixed(1)} s; lookup by email: ${plan.rows[0]?.['QUERY PLAN']}`,
  );
  const core = createCore({ store, secrets: TEST_SECRETS, settings: defaultCoreSettings });
  return { size, database, store, core, latencies: [] };
}

let client = 0;
async function signIns(target: Sized, count: number): Promise<void> {
  let left = count;
  const worker = async () => {
    while (left-- > 0) {
      const i = Math.floor(Math.random() * target.size);
      const email = `user${i}@trust${i % 200}.nhs.example`;
      const clientAddress = `10.${(client >> 16) & 255}.${(client >> 8) & 255}.${client++ & 255}`;
      const start = performance.now();
      await target.core.flow.signIn({ email, password: TEST_PASSWORD, clientAddress });
      target.latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

const small = await populated(SMALL);
const large = await populated(LARGE);
try {
  await signIns(small, 20); // warm up both
  await signIns(large, 20);
  small.latencies = [];
  large.latencies = [];
  for (let done = 0; done < SIGNINS; done += ROUND) {
    await signIns(small, Math.min(ROUND, SIGNINS - done));
    await signIns(large, Math.min(ROUND, SIGNINS - done));
  }
  const p50s = percentile(small.latencies, 50);
  const p99s = percentile(small.latencies, 99);
  const p50l = percentile(large.latencies, 50);
  const p99l = percentile(large.latencies, 99);
  console.log(
    `password sign-in on postgres, concurrency ${CONCURRENCY}, ${SIGNINS} sign-ins each:\n` +
      `  ${SMALL} accounts: p50 ${p50s.toFixed(1)} ms, p99 ${p99s.toFixed(1)} ms\n` +
      `  ${LARGE} accounts: p50 ${p50l.toFixed(1)} ms, p99 ${p99l.toFixed(1)} ms\n` +
      `  difference: p50 ${((100 * (p50l - p50s)) / p50s).toFixed(1)}%, p99 ${((100 * (p99l - p99s)) / p99s).toFixed(1)}%`,
  );
} finally {
  for (const s of [small, large]) {
    await s.store.close();
    await s.database.drop();
  }
}
