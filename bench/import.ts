/**
 * `users import` at directory scale: a CSV of BENCH_IMPORT_ROWS (default 1,500,000) accounts with
 * existing argon2id, bcrypt and PBKDF2 hashes (a handful of real hashes, reused: hashing 1.5
 * million would take hours), imported into a fresh PostgreSQL schema through the command's own
 * code (importAccounts, as `gatehouse users import` runs it). Reports rows/s, the total time and
 * the peak resident memory; then, on BENCH_PLAIN_ROWS (default 200) rows with plaintext passwords,
 * the rate of the import's hashing (one per core) and of the old path (one account at a time).
 *
 *   BENCH_IMPORT_ROWS=100000 node --import tsx bench/import.ts
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Algorithm, hash as argon2Hash } from '@node-rs/argon2';
import { hash as bcryptHashY } from '@node-rs/bcrypt';
import { importAccounts } from '../src/cli/import-accounts.ts';
import { createCore, defaultCoreSettings } from '../src/core/index.ts';
import { postgresUnavailable, testDatabase } from '../test/helpers/engines.ts';
import { TEST_SECRETS } from '../test/helpers/portal.ts';

/**
 * A bcrypt hash in the given version's prefix. @node-rs/bcrypt 1.10 (the release published for
 * every platform, so that npm ci works everywhere) writes $2y$; $2a$, $2b$ and $2y$ are the same
 * computation for these ASCII passwords of under 72 bytes, and differ only in the prefix.
 */
async function bcryptHash(password: string, options: { cost: number; version?: '2a' | '2b' | '2y' }) {
  return (await bcryptHashY(password, options.cost)).replace(/^\$2y\$/, `$${options.version ?? '2b'}$`);
}

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 1_500_000);
const PLAIN_ROWS = Number(process.env.BENCH_PLAIN_ROWS ?? 200);

const unavailable = await postgresUnavailable();
if (unavailable) {
  console.log(`import bench: skipped (${unavailable})`);
  process.exit(0);
}

const ab64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '').replace(/\+/g, '.');
const salt = randomBytes(16);
const hashes = [
  `"${await argon2Hash('Bench-Password-1', { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 })}"`,
  await bcryptHash('Bench-Password-2', { cost: 10 }),
  await bcryptHash('Bench-Password-3', { cost: 10, version: '2y' }),
  `$pbkdf2-sha256$29000$${ab64(salt)}$${ab64(pbkdf2Sync('Bench-Password-4', salt, 29000, 32, 'sha256'))}`,
  `pbkdf2_sha256$600000$benchsalt0123456789$${pbkdf2Sync('Bench-Password-5', 'benchsalt0123456789', 600000, 32, 'sha256').toString('base64')}`,
];

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-import-'));
const csv = join(dir, 'directory.csv');
{
  const out = createWriteStream(csv);
  const write = (text: string) =>
    out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', resolve));
  await write('email,name,password_hash,shared_mailbox,groups\n');
  for (let i = 0; i < ROWS; i += 10_000) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(ROWS, i + 10_000); j++)
      lines.push(
        `user${j}@trust${j % 200}.nhs.example,User ${j},${hashes[j % hashes.length]},${j % 97 === 0 ? 'yes' : 'no'},ward ${j % 500};trust ${j % 200}\n`,
      );
    await write(lines.join(''));
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  );
}
console.log(`CSV: ${ROWS} rows, ${(statSync(csv).size / 1024 / 1024).toFixed(0)} MiB`);

const rssBefore = process.memoryUsage().rss;
let peakRss = rssBefore;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);

const database = testDatabase('postgres');
const store = await database.open();
const core = createCore({ store, secrets: TEST_SECRETS, settings: defaultCoreSettings });
try {
  // First, on the empty schema: the plain-text comparison (after the big import, PostgreSQL's
  // autovacuum of the new rows would share the CPU with it).
  const plain = join(dir, 'plain.csv');
  const plainRows = (prefix: string) =>
    Array.from(
      { length: PLAIN_ROWS },
      (_, i) => `${prefix}${i}@plain.example,Plain ${i},Quiet-River-${1000 + i},no,ward 1`,
    );
  writeFileSync(plain, `email,name,password,shared_mailbox,groups\n${plainRows('new').join('\n')}\n`);
  const plainStart = performance.now();
  const plainReport = await importAccounts(core, plain, 'bench');
  const plainRate = plainReport.imported / ((performance.now() - plainStart) / 1000);
  const oldStart = performance.now();
  for (let i = 0; i < PLAIN_ROWS; i++)
    await core.accounts.add(
      {
        email: `old${i}@plain.example`,
        displayName: `Old ${i}`,
        password: `Quiet-River-${1000 + i}`,
        sharedMailbox: false,
        groups: ['ward 1'],
      },
      'bench',
    );
  const oldRate = PLAIN_ROWS / ((performance.now() - oldStart) / 1000);
  console.log(
    `plaintext rows (argon2id each): import ${plainRate.toFixed(1)} rows/s (one hash per core); ` +
      `old path, one account at a time, ${oldRate.toFixed(1)} rows/s; ${PLAIN_ROWS} rows each`,
  );

  const start = performance.now();
  const report = await importAccounts(core, csv, 'bench');
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  if (report.imported !== ROWS || report.rejected.length > 0)
    throw new Error(
      `imported ${report.imported}, rejected ${report.rejected.length}: ${JSON.stringify(report.rejected.slice(0, 3))}`,
    );
  console.log(
    `hashed import on postgres: ${ROWS} rows in ${seconds.toFixed(1)} s = ${(ROWS / seconds).toFixed(0)} rows/s; ` +
      `peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MiB (${(rssBefore / 1024 / 1024).toFixed(0)} MiB before; VmHWM ${(Number(hwm) / 1024).toFixed(0)} MiB)`,
  );
} finally {
  clearInterval(sampler);
  await store.close();
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
}
