import { type Kysely, type Migration, sql } from 'kysely';
import type { Engine } from '../engine.ts';

/**
 * The console's audit log and reports (issue 13, parts 5 and 6): the log is filtered by operator
 * (actor), by event type and by time, each newest first; these indexes make each filter an index
 * range scan in id order (keyset paging) rather than a scan of the whole log. The sign-in
 * activity report reads a time range of the log by `at`. The registration report groups the
 * active methods by account: a partial index of (account, kind) lets it read the index alone,
 * not 1.3 million rows of the table (and makes each "has an active method of this kind" a probe).
 */
export function consoleData(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor', 'id']).execute();
      await db.schema.createIndex('audit_events_type').on('audit_events').columns(['type', 'id']).execute();
      await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
      await sql`CREATE INDEX mfa_methods_active_kind ON mfa_methods (account_id, kind) WHERE status = 'active'`.execute(
        db,
      );
    },
  };
}
