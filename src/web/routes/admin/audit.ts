import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type AuditFilterInput, auditFilterOf } from '../../../core/console/audit-view.ts';
import { type Core, GatehouseError, isGatehouseError } from '../../../core/index.ts';
import { AuditEventTypes } from '../../../core/model.ts';
import { summaryAndFields } from '../../forms.ts';
import { messageFor } from '../../messages.ts';
import { formatDateTime } from '../../time-format.ts';
import { actorOf } from './guard.ts';

/** The filters and the page cursor, each at most once; anything else is no filter at all. */
const auditQuery = z.object({
  account: z.string().optional(),
  type: z.string().optional(),
  operator: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  before: z.string().optional(),
  after: z.string().optional(),
});

const FIELDS = ['account', 'type', 'operator', 'from', 'to'] as const;

export function typedQuery(request: FastifyRequest) {
  const parsed = auditQuery.safeParse(request.query ?? {});
  if (!parsed.success)
    throw new GatehouseError('console_filter_invalid', 'a filter given twice', { field: 'account' });
  return parsed.data;
}

/** A cursor as typed in the page's address: a whole number, or none. */
function cursorOf(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value))
    throw new GatehouseError('console_filter_invalid', 'not a page', { field: 'account' });
  return Number(value);
}

/** The address of the page with these filters (and a cursor), for the links and the export. */
function withFilters(path: string, input: AuditFilterInput, cursor: Record<string, number | undefined> = {}) {
  const params = new URLSearchParams();
  for (const field of FIELDS) if (input[field]) params.set(field, input[field] ?? '');
  for (const [key, value] of Object.entries(cursor)) if (value !== undefined) params.set(key, String(value));
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

/** A value typed back into its field: never more than the field takes (a 1 MB filter is not echoed). */
const echo = (value: string | undefined) => (value ?? '').slice(0, 254);

/** The audit log: filtered, paged by keyset, and exported as CSV that streams. Auditors read it. */
export function auditRoutes(core: Core) {
  const view = core.console.auditView;

  async function page(request: FastifyRequest, reply: FastifyReply) {
    const actor = actorOf(request);
    let input: AuditFilterInput = {};
    try {
      const query = typedQuery(request);
      input = query;
      const filter = auditFilterOf(query);
      const result = await view.page(filter, {
        before: cursorOf(query.before),
        after: cursorOf(query.after),
      });
      return reply.page('admin/audit', {
        ...context(actor.role, input),
        events: result.events.map((e) => ({
          at: formatDateTime(e.at),
          type: e.type,
          account: e.email ?? '',
          accountHref: e.email ? `/admin/accounts/${encodeURIComponent(e.email)}` : null,
          actor: e.actor ?? '',
          from: e.clientAddress ?? '',
          detail: Object.keys(e.detail).length > 0 ? JSON.stringify(e.detail) : '',
        })),
        newer:
          result.newer !== undefined ? withFilters('/admin/audit', input, { after: result.newer }) : null,
        older:
          result.older !== undefined ? withFilters('/admin/audit', input, { before: result.older }) : null,
        exportHref: withFilters('/admin/audit.csv', input),
      });
    } catch (error) {
      if (!isGatehouseError(error)) throw error;
      const field = typeof error.details.field === 'string' ? error.details.field : 'account';
      return reply.page(
        'admin/audit',
        {
          ...context(actor.role, input),
          events: [],
          ...summaryAndFields([{ field, text: messageFor(error, core.clock.now()) }]),
        },
        error.status,
      );
    }
  }

  function context(role: string, input: AuditFilterInput) {
    return {
      title: 'Audit log',
      wide: true,
      consoleRole: role,
      values: Object.fromEntries(FIELDS.map((f) => [f, echo(input[f])])),
      types: [
        { value: '', text: 'Any event' },
        ...AuditEventTypes.map((t) => ({ value: t, text: t, selected: t === input.type })),
      ],
    };
  }

  return async (app: FastifyInstance) => {
    app.get('/admin/audit', page);

    app.get('/admin/audit.csv', async (request, reply) => {
      let filter: ReturnType<typeof auditFilterOf>;
      try {
        filter = auditFilterOf(typedQuery(request));
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        return page(request, reply);
      }
      const chunks = await view.exportCsv(actorOf(request), filter);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="audit-log.csv"')
        .header('cache-control', 'no-store')
        .send(Readable.from(chunks));
    });
  };
}
