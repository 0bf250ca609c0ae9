/**
 * `npm run bench`: every benchmark, one after the other in its own process (so that one's memory
 * and threads do not disturb the next), on this machine in one run. Each prints its own figures;
 * ratios are what to compare across machines. BENCH_ONLY=load,push runs some of them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const benchmarks: { name: string; file: string; args?: string[]; flags?: string[] }[] = [
  { name: 'sign-in', file: 'bench/sign-in.ts' },
  { name: 'overhead', file: 'bench/overhead.ts', args: ['sqlite'] },
  { name: 'load', file: 'bench/load.ts' },
  { name: 'push', file: 'bench/push.ts', flags: ['--expose-gc'] },
  { name: 'import', file: 'bench/import.ts' },
  { name: 'scale', file: 'bench/scale.ts' },
  { name: 'console', file: 'bench/console.ts' },
];
const only = process.env.BENCH_ONLY?.split(',');
let failed = false;
for (const { name, file, args = [], flags = [] } of benchmarks) {
  if (only && !only.includes(name)) continue;
  if (!existsSync(file)) continue;
  console.log(`\n## ${name} (${file})`);
  const run = spawnSync(process.execPath, [...flags, '--import', 'tsx', file, ...args], { stdio: 'inherit' });
  if (run.status !== 0) {
    console.log(`${name}: failed (exit ${run.status})`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
