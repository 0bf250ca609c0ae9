import type { Kysely } from 'kysely';
import type { ConnectionUse } from '../core/store.ts';
import type { Database } from './schema.ts';

export type EngineName = 'sqlite' | 'postgres';

/** The few things that differ between SQLite and PostgreSQL, each engine in its own file. */
export interface Engine {
  readonly name: EngineName;
  readonly db: Kysely<Database>;
  /** Column type of an auto-incrementing integer primary key. */
  readonly autoIncrementType: 'integer' | 'serial';
  isUniqueViolation(error: unknown): boolean;
  /**
   * Inside a transaction, makes writers for one account wait for each other until it ends. On
   * PostgreSQL a row lock on the account (each transaction's snapshot would otherwise miss the
   * rows the others are adding); nothing on SQLite, where a write statement holds the database's
   * one write lock from its start to its end.
   */
  lockAccount(trx: Kysely<Database>, accountId: string): Promise<void>;
  /** SQL statements that make the audit table append-only. */
  appendOnlyTriggers(table: string): string[];
  /** The connection pool's use, for monitoring; undefined where there is no pool (SQLite). */
  connections(): ConnectionUse | undefined;
  destroy(): Promise<void>;
}
