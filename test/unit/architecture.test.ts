import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

const importsOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/^\s*import\s[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!);

test('the core imports nothing from the web, store, CLI or config layers, nor HTTP or SQL libraries', () => {
  const forbidden =
    /(\/web\/|\/store\/|\/cli\/|\/config\/|^fastify|^@fastify|^kysely|^pg$|^better-sqlite3|^node:http)/;
  const offences = sources('src/core').flatMap((file) =>
    importsOf(file)
      .filter((spec) => forbidden.test(spec))
      .map((spec) => `${relative(root, file)} imports ${spec}`),
  );
  assert.deepEqual(offences, []);
});

test('the core never reads the environment', () => {
  const offences = sources('src/core').filter((file) => readFileSync(file, 'utf8').includes('process.env'));
  assert.deepEqual(offences, []);
});

/**
 * The composition roots open the store and hand it to the core; the configuration names where it
 * is (its location type). Nothing else may touch it.
 */
const COMPOSITION_ROOTS = ['src/server.ts', 'src/cli/main.ts', 'src/config/config.ts'];

test('nothing outside src/core and src/store touches the store (but the composition roots that open it)', () => {
  const offences = sources('src')
    .map((file) => relative(root, file))
    .filter((file) => !file.startsWith('src/core/') && !file.startsWith('src/store/'))
    .filter((file) => !COMPOSITION_ROOTS.includes(file))
    .flatMap((file) => {
      const text = readFileSync(join(root, file), 'utf8');
      const found = [];
      if (importsOf(join(root, file)).some((spec) => /\/core\/store\.ts$|\/store\//.test(spec)))
        found.push(`${file} imports the store`);
      if (/core\.store\b/.test(text)) found.push(`${file} uses core.store`);
      return found;
    });
  assert.deepEqual(offences, []);
});

test('the core offers no store, and only the sign-in flow moves a session between stages', () => {
  const index = readFileSync(join(root, 'src/core/index.ts'), 'utf8');
  const core = index.slice(
    index.indexOf('export interface Core {'),
    index.indexOf('export function createCore'),
  );
  assert.doesNotMatch(core, /^\s+store: Store;/m);
  const movers = sources('src')
    .filter((file) => /sessions\.move\(/.test(readFileSync(file, 'utf8')))
    .map((file) => relative(root, file));
  assert.deepEqual(movers, ['src/core/sign-in-flow/flow.ts']);
});

test('the web and OpenID folders do not import each other in a circle (oidc imports nothing of web)', () => {
  const offences = sources('src/oidc').flatMap((file) =>
    importsOf(file)
      .filter((spec) => spec.includes('/web/'))
      .map((spec) => `${relative(root, file)} imports ${spec}`),
  );
  assert.deepEqual(offences, []);
});
