import type { Kysely } from 'kysely';
import type { AuditEventType } from '../../core/model.ts';
import type { AuditStore } from '../../core/store.ts';
import type { Database } from '../schema.ts';
import { fromMillis, toMillis } from './time.ts';

export function auditRepo(db: Kysely<Database>): AuditStore {
  return {
    async append(event) {
      await db
        .insertInto('audit_events')
        .values({
          at: toMillis(event.at),
          type: event.type,
          email: event.email ?? null,
          actor: event.actor ?? null,
          client_address: event.clientAddress ?? null,
          detail: JSON.stringify(event.detail ?? {}),
        })
        .execute();
    },
    async list({ email, limit }) {
      let query = db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(limit);
      if (email !== undefined) query = query.where('email', '=', email);
      const rows = await query.execute();
      return rows.map((row) => ({
        id: Number(row.id),
        at: fromMillis(row.at),
        type: row.type as AuditEventType,
        email: row.email,
        actor: row.actor,
        clientAddress: row.client_address,
        detail: JSON.parse(row.detail) as Record<string, unknown>,
      }));
    },
  };
}
