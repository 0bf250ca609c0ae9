#!/usr/bin/env node
// Entry point for `npx gatehouse` and `npm start`: runs the server as compiled ahead of time by
// `npm run build` (which `npm install`, `npm start` and `npm test` run), so the running process
// holds no TypeScript compiler.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/server/gatehouse.js', import.meta.url);
if (!existsSync(bundle)) {
  console.error('Gatehouse is not built yet: run `npm run build` (npm install does it) and try again.');
  process.exit(1);
}
await import(bundle.href);
