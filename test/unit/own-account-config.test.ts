import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { coreSettings, loadConfig } from '../../src/config/config.ts';
import type { GatehouseError } from '../../src/core/errors.ts';

const dirWith = (settings: unknown) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
  writeFileSync(join(dir, 'gatehouse.config.json'), JSON.stringify(settings));
  return dir;
};

test('smtp takes its password from GATEHOUSE_SMTP_PASSWORD, and STARTTLS on 587 by default', () => {
  const dir = dirWith({ smtp: { host: 'smtp.example.org', user: 'gatehouse', from: 'it@example.org' } });
  const config = loadConfig({ GATEHOUSE_SMTP_PASSWORD: 'relay-secret' }, dir);
  assert.equal(config.smtp?.password, 'relay-secret');
  assert.equal(config.smtp?.port, 587);
  assert.equal(config.smtp?.security, 'starttls');
});

test('without smtp there are no notices sent, and nobody is nudged', () => {
  const config = loadConfig({ GATEHOUSE_SMTP_PASSWORD: 'unused' }, dirWith({}));
  assert.equal(config.smtp, undefined);
  assert.deepEqual(coreSettings(config).nudge, { groups: [], snoozeDays: 1, maxSnoozes: 3 });
});

test('a mistyped smtp security is refused by name', () => {
  const dir = dirWith({ smtp: { host: 'h', from: 'it@example.org', security: 'ssl' } });
  assert.throws(
    () => loadConfig({}, dir),
    (error: GatehouseError) => error.code === 'config_invalid' && /smtp\.security/.test(error.message),
  );
});

test('the nudge groups and snooze days come from the file', () => {
  const config = loadConfig({}, dirWith({ nudge: { groups: ['wards'], snoozeDays: 7 } }));
  assert.deepEqual(coreSettings(config).nudge, { groups: ['wards'], snoozeDays: 7, maxSnoozes: 3 });
});
