/**
 * The operator console at directory scale on PostgreSQL: BENCH_CONSOLE_ROWS (default 1,500,000)
 * accounts in a schema of their own (dropped after), written by a few INSERT ... SELECT
 * generate_series statements (no hashing: nobody signs in here), with methods in the proportions
 * of a trust half-way through a roll-out, 500 groups (5 excluded from MFA), own exemptions and
 * smartcards. Then, through the core as /admin calls it:
 *  - account search (prefix of an email, prefix of a name): p50/p99 at concurrency 4, with the
 *    plans PostgreSQL chose for the two index range scans;
 *  - the registration report (every number), its first page by group and the first page of the
 *    accounts behind "no method yet": each timed several times, the median and the slowest.
 *
 *   BENCH_CONSOLE_ROWS=200000 BENCH_CONSOLE_SEARCHES=200 node --import tsx bench/console.ts
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { REGISTRATION_CATEGORIES } from '../src/core/console/reports.ts';
import { createCore, defaultCoreSettings } from '../src/core/index.ts';
import { registrationCounts } from '../src/store/repos/reports.ts';
import { postgresUnavailable, testDatabase } from '../test/helpers/engines.ts';
import { TEST_SECRETS } from '../test/helpers/portal.ts';

const ROWS = Number(process.env.BENCH_CONSOLE_ROWS ?? 1_500_000);
const SEARCHES = Number(process.env.BENCH_CONSOLE_SEARCHES ?? 400);
const REPORT_RUNS = Number(process.env.BENCH_CONSOLE_REPORT_RUNS ?? 5);
const CONCURRENCY = 4;

const unavailable = await postgresUnavailable();
if (unavailable) {
  console.log(`console bench: skipped (${unavailable})`);
  process.exit(0);
}

const FIRST = ['Alice', 'Bilal', 'Chloe', 'David', 'Emma', 'Fatima', 'George', 'Hannah', 'Imran', 'Jack'];
const LAST = [
  'Smith',
  'Jones',
  'Taylor',
  'Brown',
  'Williams',
  'Wilson',
  'Johnson',
  'Davies',
  'Patel',
  'Khan',
];
const nameOf = (i: number) => `${FIRST[i % 10]} ${LAST[Math.floor(i / 10) % 10]} ${i}`;

const database = testDatabase('postgres');
const store = await database.open(); // migrates
const raw = database.rawEngine();
const db = raw.db;
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const ms = (n: number) => `${n.toFixed(1)} ms`;

try {
  const start = performance.now();
  const n = sql.lit(ROWS - 1);
  const first = sql.raw(`array[${FIRST.map((f) => `'${f}'`).join(',')}]`);
  const last = sql.raw(`array[${LAST.map((f) => `'${f}'`).join(',')}]`);
  await sql`INSERT INTO groups (name, mfa_excluded, exclusion_message)
    SELECT 'ward ' || lpad(g::text, 3, '0'), case when g < 5 then 1 else 0 end, case when g < 5 then 'Guidance will follow' end
    FROM generate_series(0, 499) AS g`.execute(db);
  // 70% have MFA enabled; the hash is a placeholder (no sign-in reads it).
  await sql`INSERT INTO accounts (id, email, display_name, password_hash, shared_mailbox, mfa_enabled, mfa_enabled_at, created_at)
    SELECT 'acct-' || i, 'user' || i || '@trust' || (i % 200) || '.nhs.example',
      (${first})[1 + i % 10] || ' ' || (${last})[1 + (i / 10) % 10] || ' ' || i,
      'placeholder', case when i % 997 = 0 then 1 else 0 end,
      case when i % 10 < 7 then 1 else 0 end, case when i % 10 < 7 then 0 end, 0
    FROM generate_series(0, ${n}) AS i`.execute(db);
  await sql`INSERT INTO account_groups (account_id, group_name)
    SELECT 'acct-' || i, 'ward ' || lpad((i % 500)::text, 3, '0') FROM generate_series(0, ${n}) AS i`.execute(
    db,
  );
  // Methods: the app for 60%, a phone for 20% (half of them with the app too), codes for 5%.
  await sql`INSERT INTO mfa_methods (id, account_id, kind, label, created_at, last_used_at, status, data, is_default, last_step)
    SELECT 'app-' || i, 'acct-' || i, 'authenticator_app', 'Phone', 0, NULL::bigint, 'active', '{}', 1, NULL::bigint
    FROM generate_series(0, ${n}) AS i WHERE i % 10 < 6
    UNION ALL
    SELECT 'phone-' || i, 'acct-' || i, 'phone', '+44 7700 900123', 0, NULL::bigint, 'active', '{}', 0, NULL::bigint
    FROM generate_series(0, ${n}) AS i WHERE i % 10 in (5, 6)
    UNION ALL
    SELECT 'totp-' || i, 'acct-' || i, 'totp', 'Codes', 0, NULL::bigint, 'active', '{}', 0, NULL::bigint
    FROM generate_series(0, ${n}) AS i WHERE i % 20 = 7`.execute(db);
  await sql`INSERT INTO account_exemptions (account_id, owner, reason, review_at, created_at, created_by)
    SELECT 'acct-' || i, 'IT', 'bench', 4102444800000, 0, 'cli' FROM generate_series(0, ${n}) AS i WHERE i % 1000 = 9`.execute(
    db,
  );
  await sql`INSERT INTO certificate_bindings (id, account_id, issuer, serial, subject, fingerprint, not_after, created_at, last_used_at)
    SELECT 'card-' || i, 'acct-' || i, 'CN=Bench CA', to_hex(i), 'CN=' || i, md5(i::text), 4102444800000, 0, NULL
    FROM generate_series(0, ${n}) AS i WHERE i % 500 = 8`.execute(db);
  // As autovacuum leaves a table in service: statistics, and the visibility map (index-only scans).
  await sql`VACUUM ANALYZE`.execute(db);
  console.log(
    `${ROWS} accounts (with methods, groups, exemptions, smartcards) written in ${((performance.now() - start) / 1000).toFixed(1)} s`,
  );

  // The plans of the search's two arms, as the accounts repository writes them.
  const plan = async (query: ReturnType<typeof sql>) =>
    (await sql<{ 'QUERY PLAN': string }>`EXPLAIN ${query}`.execute(db)).rows
      .map((r) => r['QUERY PLAN'])
      .join('\n    ');
  const end = '\u{10FFFF}';
  console.log(
    `  plan, email prefix:\n    ${await plan(sql`select id, email from accounts where email collate "C" >= ${'user1234'} and email collate "C" < ${`user1234${end}`} order by email collate "C" limit 21`)}`,
  );
  console.log(
    `  plan, name prefix:\n    ${await plan(sql`select id, email from accounts where lower(display_name) collate "C" >= ${'emma pat'} and lower(display_name) collate "C" < ${`emma pat${end}`} order by lower(display_name) collate "C" limit 21`)}`,
  );

  const core = createCore({ store, secrets: TEST_SECRETS, settings: defaultCoreSettings });
  const search = async (kind: 'email' | 'name') => {
    const latencies: number[] = [];
    let left = SEARCHES;
    let found = 0;
    const worker = async () => {
      while (left-- > 0) {
        const i = Math.floor(Math.random() * ROWS);
        // An email's first 8 to 10 characters; a first name and the start of a surname.
        const prefix =
          kind === 'email'
            ? `user${i}`.slice(0, 8 + (i % 3))
            : nameOf(i)
                .toLowerCase()
                .slice(0, 6 + (i % 4));
        const t = performance.now();
        const result = await core.console.search(prefix);
        latencies.push(performance.now() - t);
        found += result.accounts.length;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    return { latencies, found };
  };
  await search('email'); // warm up
  await search('name');
  for (const kind of ['email', 'name'] as const) {
    const { latencies, found } = await search(kind);
    console.log(
      `account search by ${kind} prefix, ${ROWS} accounts, concurrency ${CONCURRENCY}, ${SEARCHES} searches: p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))} (${(found / SEARCHES).toFixed(1)} accounts a page on average)`,
    );
  }

  const timed = async (what: string, run: () => Promise<unknown>) => {
    const times: number[] = [];
    let result: unknown;
    for (let r = 0; r < REPORT_RUNS; r++) {
      const t = performance.now();
      result = await run();
      times.push(performance.now() - t);
    }
    console.log(
      `${what}: median ${ms(percentile(times, 50))}, slowest ${ms(Math.max(...times))} (${REPORT_RUNS} runs)`,
    );
    return result;
  };
  const reports = core.console.reports;
  if (process.env.BENCH_CONSOLE_EXPLAIN) {
    const query = registrationCounts(REGISTRATION_CATEGORIES, Date.now());
    const explained = await sql<{ 'QUERY PLAN': string }>`EXPLAIN (ANALYZE, BUFFERS) ${query}`.execute(db);
    console.log(
      `  plan, registration report:\n    ${explained.rows.map((r) => r['QUERY PLAN']).join('\n    ')}`,
    );
  }
  const registration = (await timed('registration report, every number', () =>
    reports.registration(),
  )) as Awaited<ReturnType<typeof reports.registration>>;
  console.log(
    `  ${Object.entries(registration.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  await timed('registration by group, first page (50 groups)', () => reports.groups());
  await timed('registration of one group', () => reports.registration({ group: 'ward 123' }));
  await timed('accounts with no method yet, first page', () =>
    reports.registrationList({ category: 'none' }),
  );
  await timed('accounts with a phone, first page', () =>
    reports.registrationList({ category: 'method:phone' }),
  );
} finally {
  await raw.destroy();
  await store.close();
  await database.drop();
}
