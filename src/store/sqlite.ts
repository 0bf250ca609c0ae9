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
  connection.pragma('busy_timeout = 5000');
  connection.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({
    dialect: withOutageErrors(
      new SqliteDialect({ database: connection }),
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
    destroy: () => db.destroy(),
  };
}
