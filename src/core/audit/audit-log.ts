import type { Clock } from '../clock.ts';
import type { AuditEvent, AuditEventInput } from '../model.ts';
import type { Store } from '../store.ts';

export interface AuditLog {
  record(event: AuditEventInput, store?: Store): Promise<void>;
  list(filter: { email?: string; limit?: number }): Promise<AuditEvent[]>;
}

/** Security events, append-only (the database refuses updates and deletes of this table). */
export function auditLog(store: Store, clock: Clock): AuditLog {
  return {
    // Pass the transaction's store to make the event part of the change it describes.
    record: (event, within = store) => within.audit.append({ ...event, at: clock.now() }),
    list: ({ email, limit = 100 }) => store.audit.list({ ...(email ? { email } : {}), limit }),
  };
}
