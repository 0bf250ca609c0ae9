import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, storeLocation } from '../../src/config/config.ts';
import type { GatehouseError } from '../../src/core/errors.ts';

const emptyDir = () => mkdtempSync(join(tmpdir(), 'gatehouse-config-'));

test('defaults: port 8080 and SQLite under ./data', () => {
  const dir = emptyDir();
  const config = loadConfig({}, dir);
  assert.equal(config.port, 8080);
  const location = storeLocation(config);
  assert.equal(location.engine, 'sqlite');
  assert.equal(location.engine === 'sqlite' && location.file, join(dir, 'data', 'gatehouse.sqlite'));
});

test('PORT and GATEHOUSE_DATABASE_URL override the defaults', () => {
  const config = loadConfig({ PORT: '9000', GATEHOUSE_DATABASE_URL: 'postgres://u@h/db' }, emptyDir());
  assert.equal(config.port, 9000);
  assert.deepEqual(storeLocation(config), { engine: 'postgres', url: 'postgres://u@h/db' });
});

test('an unknown key in the configuration file is refused by name', () => {
  const dir = emptyDir();
  writeFileSync(join(dir, 'gatehouse.config.json'), JSON.stringify({ port: 8081, sessionIdelMinutes: 5 }));
  assert.throws(
    () => loadConfig({}, dir),
    (e: GatehouseError) => e.code === 'config_invalid' && e.message.includes('"sessionIdelMinutes"'),
  );
});

test('a misspelt GATEHOUSE_ variable and a bad value are both reported, in words', () => {
  assert.throws(
    () => loadConfig({ GATEHOUSE_DATABSE_URL: 'x', PORT: 'eighty' }, emptyDir()),
    (e: GatehouseError) =>
      e.code === 'config_invalid' &&
      e.message.includes('GATEHOUSE_DATABSE_URL is not a Gatehouse setting') &&
      e.message.includes('port:'),
  );
});

test('a database URL that is not PostgreSQL is refused with the reason', () => {
  assert.throws(
    () => loadConfig({ GATEHOUSE_DATABASE_URL: 'mysql://x' }, emptyDir()),
    (e: GatehouseError) => e.message.includes('must start with postgres://'),
  );
});

test('a configuration file that is not JSON is reported, not thrown raw', () => {
  const dir = emptyDir();
  writeFileSync(join(dir, 'custom.json'), '{ port: ');
  assert.throws(
    () => loadConfig({ GATEHOUSE_CONFIG: 'custom.json' }, dir),
    (e: GatehouseError) =>
      e.code === 'config_invalid' && e.message.includes('cannot read configuration file'),
  );
});

test('the event bus: unset by default, Redis when named (environment or file), nothing else', () => {
  const defaults = loadConfig({}, emptyDir());
  assert.equal(defaults.eventBusUrl, undefined);
  assert.equal(defaults.eventBusPrefix, 'gatehouse:');
  const redis = loadConfig(
    { GATEHOUSE_EVENT_BUS_URL: 'redis://cache:6379/0', GATEHOUSE_EVENT_BUS_PREFIX: 'trust-a:' },
    emptyDir(),
  );
  assert.equal(redis.eventBusUrl, 'redis://cache:6379/0');
  assert.equal(redis.eventBusPrefix, 'trust-a:');
  assert.throws(
    () => loadConfig({ GATEHOUSE_EVENT_BUS_URL: 'http://cache:6379' }, emptyDir()),
    (error: GatehouseError) => error.code === 'config_invalid' && /eventBusUrl/.test(error.message),
  );
});
