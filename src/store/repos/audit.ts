import { type Kysely, type Selectable, sql } from 'kysely';
import type { AuditEvent, AuditEventInput, AuditEventType } from '../../core/model.ts';
import type { AuditFilter, AuditStore } from '../../core/store.ts';
import type { Engine } from '../engine.ts';
import type { AuditEventsTable, Database } from '../schema.ts';
import { fromMillis, toMillis } from './time.ts';

export function auditRepo(db: Kysely<Database>, engine?: Engine): AuditStore {
  const row = (event: AuditEventInput & { at: Date }) => ({
    at: toMillis(event.at),
    type: event.type,
    email: event.email ?? null,
    actor: event.actor ?? null,
    client_address: event.clientAddress ?? null,
    detail: JSON.stringify(event.detail ?? {}),
  });
  return {
    async append(event) {
      await db.insertInto('audit_events').values(row(event)).execute();
    },
    async appendMany(events) {
      // 6 parameters a row: 1000 rows stay far below both engines' limits on bound parameters.
      for (let i = 0; i < events.length; i += 1000)
        await db
          .insertInto('audit_events')
          .values(events.slice(i, i + 1000).map(row))
          .execute();
    },
    async list({ email, limit, since, types }) {
      let query = db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(limit);
      if (email !== undefined) query = query.where('email', '=', email);
      if (since !== undefined) query = query.where('at', '>=', toMillis(since));
      if (types !== undefined && types.length > 0) query = query.where('type', 'in', [...types]);
      const rows = await query.execute();
      return rows.map(toEvent);
    },
    async find(id) {
      const row = await db.selectFrom('audit_events').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toEvent(row) : undefined;
    },
    async page(filter, cursor, limit) {
      let query = filtered(db, filter).selectAll().limit(limit);
      if (cursor.after !== undefined) {
        // The newer page: the `limit` events just above the cursor, then turned newest first.
        const rows = await query.where('id', '>', cursor.after).orderBy('id', 'asc').execute();
        return rows.map(toEvent).reverse();
      }
      if (cursor.before !== undefined) query = query.where('id', '<', cursor.before);
      return (await query.orderBy('id', 'desc').execute()).map(toEvent);
    },
    async countByDay({ from, to, types }) {
      if (types.length === 0) return [];
      // The detail is JSON text; PostgreSQL reads it as jsonb, SQLite's ->> reads the text itself.
      const json = engine?.name === 'postgres' ? sql`(detail::jsonb)` : sql`detail`;
      const field = (key: string) => sql<string | null>`${json} ->> ${sql.lit(key)}`;
      const { rows } = await sql<{
        day: number;
        type: string;
        challenge: string | null;
        sms: number;
        protocol: number;
        reason: string | null;
        channel: string | null;
        credential: string | null;
        count: number;
      }>`select at / 86400000 as day, type,
          case when ${field('challenge')} like 'push:%' then 'push:'
               when ${field('challenge')} like 'totp:%' then 'totp:'
               when ${field('challenge')} like 'phone:%' then 'phone:' end as challenge,
          case when ${field('factors')} like '%"sms"%' then 1 else 0 end as sms,
          case when ${field('protocol')} is not null then 1 else 0 end as protocol,
          case when ${field('reason')} in ('locked', 'wrong_code', 'provider') then ${field('reason')} end as reason,
          ${field('channel')} as channel,
          ${field('credential')} as credential,
          count(*) as count
        from audit_events
        where at >= ${toMillis(from)} and at < ${toMillis(to)}
          and type in (${sql.join([...types])})
        group by 1, 2, 3, 4, 5, 6, 7, 8
        order by 1, 2`.execute(db);
      return rows.map((r) => {
        const detail: Record<string, unknown> = { factors: Number(r.sms) === 1 ? ['sms'] : [] };
        if (r.challenge !== null) detail.challenge = r.challenge;
        if (Number(r.protocol) === 1) detail.protocol = 'legacy';
        for (const key of ['reason', 'channel', 'credential'] as const)
          if (r[key] !== null && r[key] !== undefined) detail[key] = r[key];
        return {
          day: new Date(Number(r.day) * 86_400_000).toISOString().slice(0, 10),
          type: r.type as AuditEventType,
          detail,
          count: Number(r.count),
        };
      });
    },
  };
}

/** The audit log narrowed by the console's filters: each one an indexed column (migration 0016). */
function filtered(db: Kysely<Database>, filter: AuditFilter) {
  let query = db.selectFrom('audit_events');
  if (filter.email !== undefined) query = query.where('email', '=', filter.email);
  if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
  if (filter.types !== undefined && filter.types.length > 0)
    query = query.where('type', 'in', [...filter.types]);
  if (filter.from !== undefined) query = query.where('at', '>=', toMillis(filter.from));
  if (filter.to !== undefined) query = query.where('at', '<', toMillis(filter.to));
  return query;
}

function toEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    id: Number(row.id),
    at: fromMillis(row.at),
    type: row.type as AuditEventType,
    email: row.email,
    actor: row.actor,
    clientAddress: row.client_address,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
  };
}
