import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

export type EngineName = 'sqlite' | 'postgres';

/** The few things that differ between SQLite and PostgreSQL, each engine in its own file. */
export interface Engine {
  readonly name: EngineName;
  readonly db: Kysely<Database>;
  /** Column type of an auto-incrementing integer primary key. */
  readonly autoIncrementType: 'integer' | 'serial';
  isUniqueViolation(error: unknown): boolean;
  /** SQL statements that make the audit table append-only. */
  appendOnlyTriggers(table: string): string[];
  destroy(): Promise<void>;
}
