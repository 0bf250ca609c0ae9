import { Migrator, sql } from 'kysely';
import type { Engine } from './engine.ts';
import { migrationProvider } from './migrations/index.ts';

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(engine: Engine): Promise<string[]> {
  const migrator = new Migrator({
    db: engine.db,
    provider: migrationProvider(engine),
    ...(await migrationTableSchema(engine)),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${(error as Error).message}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * On PostgreSQL, the schema Gatehouse works in. Without it kysely looks for its migration tables
 * in every schema of the database, finds another schema's (a second Gatehouse, a parallel test
 * run) and then fails to read its own: "relation kysely_migration_lock does not exist".
 */
async function migrationTableSchema(engine: Engine): Promise<{ migrationTableSchema?: string }> {
  if (engine.name !== 'postgres') return {};
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(engine.db);
  const schema = rows[0]?.schema;
  return schema ? { migrationTableSchema: schema } : {};
}
