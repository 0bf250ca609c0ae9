import { sql } from 'kysely';
import { GatehouseError } from '../core/errors.ts';
import type { Store } from '../core/store.ts';
import type { Engine } from './engine.ts';
import { kyselyStore } from './kysely-store.ts';
import { migrateToLatest } from './migrate.ts';

export type StoreLocation =
  | { engine: 'sqlite'; file: string }
  | { engine: 'postgres'; url: string; schema?: string };

export interface OpenOptions {
  /** Told of a PostgreSQL connection that dropped while idle (see postgresEngine). */
  onConnectionError?: (error: Error) => void;
}

/** Opens the configured database, checks that it answers, and applies migrations. */
export async function openStore(location: StoreLocation, options: OpenOptions = {}): Promise<Store> {
  const engine = await createEngine(location, options);
  try {
    if (location.engine === 'postgres' && location.schema) {
      await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(location.schema)}`.execute(engine.db);
    }
    await sql`select 1`.execute(engine.db);
  } catch (error) {
    await engine.destroy().catch(() => {});
    throw new GatehouseError('database_unreachable', describeLocation(location), {
      reason: (error as Error).message,
    });
  }
  await migrateToLatest(engine);
  return kyselyStore(engine);
}

/** Each engine's driver (pg or better-sqlite3) is loaded only when it is the one configured. */
async function createEngine(location: StoreLocation, options: OpenOptions): Promise<Engine> {
  if (location.engine === 'sqlite') return (await import('./sqlite.ts')).sqliteEngine(location.file);
  const { postgresEngine } = await import('./postgres.ts');
  return postgresEngine({
    connectionString: location.url,
    ...(location.schema ? { schema: location.schema } : {}),
    ...(options.onConnectionError ? { onConnectionError: options.onConnectionError } : {}),
  });
}

/** Where the database is, without any password the URL may hold. */
export function describeLocation(location: StoreLocation): string {
  if (location.engine === 'sqlite') return `SQLite database ${location.file}`;
  try {
    const url = new URL(location.url);
    url.password = '';
    return `PostgreSQL database ${url.host}${url.pathname}`;
  } catch {
    return 'PostgreSQL database (unparseable URL)';
  }
}
