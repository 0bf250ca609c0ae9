import type { Clock } from '../clock.ts';
import type { AuditEvent, AuditEventInput } from '../model.ts';
import { type CoreObserver, noObserver } from '../monitoring/observer.ts';
import type { Store } from '../store.ts';

export interface AuditLog {
  record(event: AuditEventInput, store?: Store): Promise<void>;
  /** Many events at one time, in a few statements (bulk import). */
  recordMany(events: readonly AuditEventInput[], store?: Store): Promise<void>;
  list(filter: { email?: string; limit?: number }): Promise<AuditEvent[]>;
}

/** Security events, append-only (the database refuses updates and deletes of this table). */
export function auditLog(store: Store, clock: Clock, observer: CoreObserver = noObserver): AuditLog {
  return {
    // Pass the transaction's store to make the event part of the change it describes.
    async record(event, within = store) {
      await within.audit.append({ ...event, at: clock.now() });
      observer.eventRecorded(event);
    },
    async recordMany(events, within = store) {
      const at = clock.now();
      await within.audit.appendMany(events.map((event) => ({ ...event, at })));
      for (const event of events) observer.eventRecorded(event);
    },
    list: ({ email, limit = 100 }) => store.audit.list({ ...(email ? { email } : {}), limit }),
  };
}
