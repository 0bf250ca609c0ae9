import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Engine } from './engine.ts';
import { sqliteOutage, sqliteRolledBackAlready, withOutageErrors } from './outage.ts';
import type { Database } from './schema.ts';

/** SQLite, embedded: the default engine, one file on disk. */
export function sqliteEngine(file: string): Engine {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const connection = new SqliteDatabase(file);
  // WAL lets readers proceed during a write; a busy timeout queues writers from the CLI and
  // the server instead of failing at once; foreign keys are off by default in SQLite.
  connection.pragma('journal_mode = WAL');
  // In WAL mode NORMAL syncs the log at checkpoints, not at every commit: a crash or kill of the
  // process loses nothing committed, and only a power cut or an operating-system crash can undo the
  // last commits (never corrupting the file). FULL's sync per commit would block the only thread
  // on every sign-in's writes (SQLite's own advice for WAL: https://sqlite.org/pragma.html#pragma_synchronous).
  connection.pragma('synchronous = NORMAL');
  connection.pragma('busy_timeout = 5000');
  connection.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({
    dialect: withOutageErrors(
      new SqliteDialect({ database: withStatementCache(connection) }),
      sqliteOutage,
      sqliteRolledBackAlready,
    ),
  });
  return {
    name: 'sqlite',
    db,
    autoIncrementType: 'integer',
    isUniqueViolation: (error) =>
      typeof error === 'object' &&
      error !== null &&
      'code' in error &&
      (error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'),
    lockAccount: async () => {},
    appendOnlyTriggers: (table) => [
      `CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END`,
      `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END`,
    ],
    connections: () => undefined,
    destroy: () => db.destroy(),
  };
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query afresh, and preparing costs SQLite more than running the small
 * queries a sign-in makes (a tenth of the server's CPU, measured by bench/load.ts with
 * --cpu-prof): keep each SQL text's prepared statement. A statement still being iterated (a
 * streamed query) is busy and cannot run again, so such a caller gets a fresh one. Queries whose
 * text varies (IN lists of different lengths) are bounded by starting afresh past the limit.
 */
function withStatementCache(connection: SqliteDatabase.Database) {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => connection.close(),
    prepare(sql: string) {
      const cached = statements.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = connection.prepare(sql);
      if (!cached) {
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.clear();
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
