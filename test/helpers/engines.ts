import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Store } from '../../src/core/store.ts';
import type { Engine } from '../../src/store/engine.ts';
import { openStore, type StoreLocation } from '../../src/store/open-store.ts';
import { postgresEngine } from '../../src/store/postgres.ts';
import { sqliteEngine } from '../../src/store/sqlite.ts';

export const POSTGRES_URL =
  process.env.GATEHOUSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let postgresReachable: Promise<string | null> | undefined;

/** null when PostgreSQL answers; otherwise why not. In CI an unreachable server is a failure, not a skip. */
export function postgresUnavailable(): Promise<string | null> {
  postgresReachable ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return null;
    } catch (error) {
      if (process.env.CI)
        throw new Error(`PostgreSQL at ${POSTGRES_URL} is required in CI: ${(error as Error).message}`);
      return `PostgreSQL at ${POSTGRES_URL} is not reachable (${(error as Error).message})`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return postgresReachable;
}

export interface TestDatabase {
  location: StoreLocation;
  open(): Promise<Store>;
  /** A second, raw connection, for tests that must go around the Store interface. */
  rawEngine(): Engine;
  /** Removes the file or schema. */
  drop(): Promise<void>;
}

/** A fresh, empty database on the engine: a temporary SQLite file, or a PostgreSQL schema of its own. */
export function testDatabase(engine: 'sqlite' | 'postgres'): TestDatabase {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
    const location = { engine: 'sqlite', file: join(dir, 'gatehouse.sqlite') } as const;
    return {
      location,
      open: () => openStore(location),
      rawEngine: () => sqliteEngine(location.file),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  const location: StoreLocation = { engine: 'postgres', url: POSTGRES_URL, schema };
  return {
    location,
    open: () => openStore(location),
    rawEngine: () => postgresEngine({ connectionString: POSTGRES_URL, schema }),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

export const ENGINES = ['sqlite', 'postgres'] as const;
