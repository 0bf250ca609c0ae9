/**
 * The build, run by `npm install` (prepare), `npm start` and `npm test`: compiles the server's
 * TypeScript ahead of time into one ESM bundle (dist/server/gatehouse.js; dependencies stay in
 * node_modules) and writes the authenticator app's bundled files to dist/authenticator-app, so
 * that the running server holds no transpiler and no bundler. esbuild takes about a second.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { distDir, projectRoot } from '../src/paths.ts';
import { writePrebuiltApp } from '../src/web/authenticator-app-bundle.ts';

const serverDir = join(distDir, 'server');
await rm(serverDir, { recursive: true, force: true });
await build({
  entryPoints: { gatehouse: join(projectRoot, 'src', 'cli', 'main.ts') },
  outdir: serverDir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
await writePrebuiltApp();
