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
