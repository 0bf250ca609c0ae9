import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../engine.ts';

/**
 * The console's audit log and reports (issue 13, parts 5 and 6): the log is filtered by operator
 * (actor), by event type and by time, each newest first; these indexes make each filter an index
 * range scan in id order (keyset paging) rather than a scan of the whole log. The sign-in
 * activity report reads a time range of the log by `at`.
 */
export function consoleData(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor', 'id']).execute();
      await db.schema.createIndex('audit_events_type').on('audit_events').columns(['type', 'id']).execute();
      await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
    },
  };
}
