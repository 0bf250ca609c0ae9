import type { AuditLog } from '../audit/audit-log.ts';
import { GatehouseError } from '../errors.ts';
import { type AuditEvent, type AuditEventType, AuditEventTypes } from '../model.ts';
import type { AuditCursor, AuditFilter, Store } from '../store.ts';
import type { ConsoleActor } from './actor.ts';
import { csvPages } from './csv.ts';
import { checkedRange, typedTime } from './time-range.ts';

export const AUDIT_PAGE_SIZE = 50;
/** Rows read per statement while exporting: memory stays at one batch, whatever the log's size. */
export const AUDIT_EXPORT_BATCH = 1000;
const MAX_NAME_LENGTH = 254;

/** The filters as typed (a form's fields, a command's options): checked here, once for both. */
export interface AuditFilterInput {
  account?: string | undefined;
  type?: string | undefined;
  operator?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

/** The typed filters made into a filter, or refused (console_filter_invalid, time_range_invalid). */
export function auditFilterOf(input: AuditFilterInput): AuditFilter {
  const name = (value: string | undefined, field: string) => {
    const text = (value ?? '').trim().toLowerCase();
    if (text.length > MAX_NAME_LENGTH)
      throw new GatehouseError('console_filter_invalid', `${field} is too long`, { field });
    return text === '' ? undefined : text;
  };
  const email = name(input.account, 'account');
  const actor = name(input.operator, 'operator');
  const type = (input.type ?? '').trim();
  if (type !== '' && !(AuditEventTypes as readonly string[]).includes(type))
    throw new GatehouseError('console_filter_invalid', 'not an event type', { field: 'type' });
  const from = typedTime(input.from, 'from', false);
  const to = typedTime(input.to, 'to', true);
  checkedRange(from, to);
  return {
    ...(email ? { email } : {}),
    ...(actor ? { actor } : {}),
    ...(type ? { types: [type as AuditEventType] } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
  };
}

export interface AuditPage {
  events: AuditEvent[];
  /** The cursor of the next older page, when there is one. */
  older: number | undefined;
  /** The cursor of the newer page, when there is one. */
  newer: number | undefined;
}

/**
 * The audit log as the console reads it: filtered, a page at a time by keyset (the id of the last
 * row seen), and exported as CSV a batch at a time. Reading is open to auditors; an export is
 * itself audited (who took a copy of what).
 */
export function auditView(deps: { store: Store; audit: AuditLog }) {
  const { store, audit } = deps;

  async function* batches(filter: AuditFilter): AsyncGenerator<AuditEvent[]> {
    let before: number | undefined;
    for (;;) {
      const events = await store.audit.page(filter, { before }, AUDIT_EXPORT_BATCH);
      if (events.length > 0) yield events;
      if (events.length < AUDIT_EXPORT_BATCH) return;
      before = events[events.length - 1]?.id;
    }
  }

  return {
    async page(filter: AuditFilter, cursor: AuditCursor = {}): Promise<AuditPage> {
      const limit = AUDIT_PAGE_SIZE;
      const valid = (n: number | undefined) => n === undefined || (Number.isSafeInteger(n) && n >= 0);
      if (!valid(cursor.before) || !valid(cursor.after))
        throw new GatehouseError('console_filter_invalid', 'not a page', { field: 'page' });
      const found = await store.audit.page(filter, cursor, limit + 1);
      if (cursor.after !== undefined) {
        // Newest first; one more than a page means there are newer ones still.
        const more = found.length > limit;
        const events = more ? found.slice(1) : found;
        return { events, newer: more ? events[0]?.id : undefined, older: events.at(-1)?.id };
      }
      const events = found.slice(0, limit);
      return {
        events,
        older: found.length > limit ? events.at(-1)?.id : undefined,
        newer: cursor.before !== undefined ? events[0]?.id : undefined,
      };
    },

    /**
     * Every event that matches, newest first, as CSV chunks read AUDIT_EXPORT_BATCH rows at a time
     * (the caller writes each chunk as it comes). The export is audited before the first row.
     */
    async exportCsv(actor: ConsoleActor, filter: AuditFilter): Promise<AsyncGenerator<string>> {
      await audit.record({
        type: 'console.exported',
        actor: actor.name,
        detail: { what: 'audit_log', filter: describeFilter(filter) },
      });
      return csvPages(
        ['id', 'at', 'type', 'account', 'actor', 'client_address', 'detail'],
        batches(filter),
        (e) => [
          e.id,
          e.at.toISOString(),
          e.type,
          e.email,
          e.actor,
          e.clientAddress,
          JSON.stringify(e.detail),
        ],
      );
    },
  };
}

function describeFilter(filter: AuditFilter): Record<string, string> {
  return {
    ...(filter.email ? { account: filter.email } : {}),
    ...(filter.actor ? { operator: filter.actor } : {}),
    ...(filter.types ? { type: filter.types.join(',') } : {}),
    ...(filter.from ? { from: filter.from.toISOString() } : {}),
    ...(filter.to ? { to: filter.to.toISOString() } : {}),
  };
}

export type AuditView = ReturnType<typeof auditView>;
