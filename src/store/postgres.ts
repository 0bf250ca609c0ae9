import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Engine } from './engine.ts';
import { postgresOutage, withOutageErrors } from './outage.ts';
import type { Database } from './schema.ts';

const INT8_OID = 20;

export interface PostgresOptions {
  connectionString: string;
  /** Schema to work in (created if missing); tests use one schema per run. */
  schema?: string;
  maxConnections?: number;
  /**
   * Told of a connection that failed while no statement was using it (the server restarted, an
   * administrator ran pg_terminate_backend): the pool has already dropped it and opens a new one
   * when next needed. Default: ignored.
   */
  onConnectionError?: (error: Error) => void;
}

/** PostgreSQL: for several Gatehouse instances behind a load balancer. */
export function postgresEngine(options: PostgresOptions): Engine {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5000,
    // A peer that vanished without closing (a failover, a cut network) is noticed, not waited on.
    keepAlive: true,
    ...(options.schema ? { options: `-c search_path=${quoteIdentifier(options.schema)}` } : {}),
    // Times are stored as bigint milliseconds; they fit a JavaScript number exactly.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // Without these listeners one dropped connection ends the process ("Unhandled 'error' event").
  // Each client's own listener hears it whether the client is idle or checked out between
  // statements (inside a transaction, whose next statement then fails instead); the pool passes
  // an idle client's error on too, already heard, so its listener only keeps the process alive.
  pool.on('connect', (client) => client.on('error', (error) => options.onConnectionError?.(error)));
  pool.on('error', () => {});
  const db = new Kysely<Database>({
    dialect: withOutageErrors(new PostgresDialect({ pool }), postgresOutage),
  });
  return {
    name: 'postgres',
    db,
    autoIncrementType: 'serial',
    isUniqueViolation: (error) =>
      typeof error === 'object' && error !== null && 'code' in error && error.code === '23505',
    async lockAccount(trx, accountId) {
      await trx.selectFrom('accounts').select('id').where('id', '=', accountId).forUpdate().execute();
    },
    appendOnlyTriggers: (table) => [
      `CREATE FUNCTION ${table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$`,
      `CREATE TRIGGER ${table}_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${table}_append_only()`,
    ],
    connections: () => ({
      open: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
      max: pool.options.max ?? 10,
    }),
    destroy: () => db.destroy(),
  };
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
