import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Engine } from './engine.ts';
import type { Database } from './schema.ts';

const INT8_OID = 20;

export interface PostgresOptions {
  connectionString: string;
  /** Schema to work in (created if missing); tests use one schema per run. */
  schema?: string;
  maxConnections?: number;
}

/** PostgreSQL: for several Gatehouse instances behind a load balancer. */
export function postgresEngine(options: PostgresOptions): Engine {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5000,
    ...(options.schema ? { options: `-c search_path=${quoteIdentifier(options.schema)}` } : {}),
    // Times are stored as bigint milliseconds; they fit a JavaScript number exactly.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection that the server ends (a restart, a failover) is an error event of the pool;
  // unhandled, it would end the process. The pool has already dropped that connection: the next
  // query opens a new one.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
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
    destroy: () => db.destroy(),
  };
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
