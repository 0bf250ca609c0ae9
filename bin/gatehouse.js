#!/usr/bin/env -S node --max-semi-space-size=4
// Entry point for `npx gatehouse` and `npm start`: runs the server as compiled ahead of time by
// `npm run build` (which `npm install`, `npm start` and `npm test` run), so the running process
// holds no TypeScript compiler.
// --max-semi-space-size=4 (MiB): V8's young generation otherwise grows to 16 MiB per semi-space
// while the start loads its modules and never gives the pages back, some 25 MB resident of an
// idle portal's ~140; measured by bench/load.ts, which also reports what it does to throughput.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/server/gatehouse.js', import.meta.url);
if (!existsSync(bundle)) {
  console.error('Gatehouse is not built yet: run `npm run build` (npm install does it) and try again.');
  process.exit(1);
}
await import(bundle.href);
