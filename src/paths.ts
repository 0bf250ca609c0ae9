import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's folder, found from this module's own location: the same answer whether the code
 * runs from its TypeScript sources (tests, benchmarks) or from the bundle the build wrote to
 * dist/ (the server), so templates and static files are found from either.
 */
export const projectRoot = findRoot(dirname(fileURLToPath(import.meta.url)));

/** True when this code runs from the TypeScript sources rather than from the built bundle. */
export const runningFromSources = import.meta.url.endsWith('.ts');

/** Where the build puts what it makes: the server bundle and the authenticator app's files. */
export const distDir = join(projectRoot, 'dist');

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src', 'web', 'views'))) return dir;
    if (dirname(dir) === dir) throw new Error(`Gatehouse's project folder not found above ${start}`);
  }
}
