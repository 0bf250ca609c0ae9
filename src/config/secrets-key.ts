import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aesGcmSecretBox, type SecretBox } from '../core/crypto/secret-box.ts';
import { GatehouseError } from '../core/errors.ts';
import type { Config } from './config.ts';

/**
 * The key that encrypts method secrets. With the embedded database it is created on first use in
 * the data folder (readable by its owner only), so `npm start` needs no setup; with PostgreSQL it
 * must be configured, because every instance must hold the same key and it must not sit in the
 * database it protects.
 */
export function secretBoxFor(config: Config): SecretBox {
  if (config.secretsKey) return aesGcmSecretBox(Buffer.from(config.secretsKey, 'base64'));
  if (config.databaseUrl) {
    throw new GatehouseError(
      'config_invalid',
      'Gatehouse cannot start:\n  - GATEHOUSE_SECRETS_KEY is required with PostgreSQL: the same 32-byte key, in base64, on every instance (openssl rand -base64 32)',
    );
  }
  const file = secretsKeyFile(config);
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32)
    throw new GatehouseError(
      'config_invalid',
      `Gatehouse cannot start:\n  - ${file} does not hold a 32-byte key`,
    );
  return aesGcmSecretBox(key);
}

/** Where the embedded database's secrets key lives: beside the database, in the data folder. */
export function secretsKeyFile(config: Pick<Config, 'dataDir'>): string {
  return join(config.dataDir, 'secrets.key');
}

/** The key as configured or kept in the data folder (base64), or undefined when there is none yet. */
export function currentSecretsKey(config: Config): string | undefined {
  if (config.secretsKey) return config.secretsKey;
  const file = secretsKeyFile(config);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}
