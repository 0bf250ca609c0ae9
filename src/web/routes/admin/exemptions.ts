import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { registerCsv } from '../../../core/console/exemptions.ts';
import { type Core, GatehouseError, isGatehouseError } from '../../../core/index.ts';
import { formBody, summaryAndFields } from '../../forms.ts';
import { messageFor } from '../../messages.ts';
import { formatDateTime } from '../../time-format.ts';
import { actorOf } from './guard.ts';

const statusWords = {
  lapsed: 'Lapsed: no longer counts',
  due: 'Due for review',
  current: 'Current',
  none: 'No review date',
};

/** A date typed in the NHS date input's three fields; an invalid day is no date at all. */
export function typedDate(
  day: string | undefined,
  month: string | undefined,
  year: string | undefined,
): Date {
  const [d, m, y] = [day, month, year].map((v) =>
    /^\d{1,4}$/.test((v ?? '').trim()) ? Number(v) : Number.NaN,
  );
  const date = new Date(Date.UTC(y ?? Number.NaN, (m ?? Number.NaN) - 1, d ?? Number.NaN));
  if (Number.isNaN(date.getTime()) || date.getUTCDate() !== d || date.getUTCMonth() !== (m ?? 0) - 1)
    return new Date(Number.NaN);
  return date;
}

/** The exemption register: every exemption from MFA, due ones first, with its export and forms. */
export function exemptionRoutes(core: Core) {
  const register = core.console.exemptions;

  async function page(
    request: FastifyRequest,
    reply: FastifyReply,
    problem?: { form: string; error: GatehouseError },
    flash?: string,
  ) {
    const actor = actorOf(request);
    const entries = await register.list();
    const field = problem
      ? problem.error.code === 'review_date_past'
        ? `${problem.form}-review-day`
        : problem.error.code === 'exemption_owner_required'
          ? `${problem.form}-owner`
          : problem.error.code === 'console_reason_required'
            ? `${problem.form}-reason`
            : problem.error.code === 'account_not_found'
              ? `${problem.form}-email`
              : `${problem.form}-name`
      : '';
    const text = problem
      ? problem.error.code === 'account_not_found'
        ? 'There is no account with that email address'
        : problem.error.code === 'invalid_input'
          ? 'Enter the group name and the message its members see (at most 1000 characters)'
          : messageFor(problem.error, core.clock.now())
      : '';
    return reply.page(
      'admin/exemptions',
      {
        title: 'Exemption register',
        wide: true,
        consoleRole: actor.role,
        canChange: actor.role === 'operator',
        flash,
        entries: entries.map((e) => ({
          kind: e.kind === 'group' ? 'Group' : 'Account',
          name: e.name,
          owner: e.owner ?? '',
          reason: e.reason ?? '',
          review: e.reviewAt ? formatDateTime(e.reviewAt).replace(/,? \d\d:\d\d$/, '') : '',
          status: statusWords[e.status],
          attention: e.status === 'lapsed' || e.status === 'due' || e.status === 'none',
        })),
        values: problem ? formBody(request.body) : {},
        ...summaryAndFields(problem ? [{ field, text }] : []),
      },
      problem ? problem.error.status : 200,
    );
  }

  async function change(
    request: FastifyRequest,
    reply: FastifyReply,
    form: string,
    run: (b: Record<string, string>) => Promise<string>,
  ) {
    const body = formBody(request.body);
    try {
      return page(request, reply, undefined, await run(body));
    } catch (error) {
      if (!isGatehouseError(error)) throw error;
      return page(request, reply, { form, error });
    }
  }

  return async (app: FastifyInstance) => {
    app.get('/admin/exemptions', async (request, reply) => page(request, reply));

    app.get('/admin/exemptions.csv', async (_request, reply) =>
      reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="exemption-register.csv"')
        .header('cache-control', 'no-store')
        .send(registerCsv(await register.list())),
    );

    app.post('/admin/exemptions/groups', async (request, reply) =>
      change(request, reply, 'group', async (b) => {
        const name = (b.name ?? '').trim();
        if (name.length === 0 || name.length > 200) throw new GatehouseError('invalid_input');
        await register.exemptGroup(actorOf(request), name, {
          message: b.message ?? '',
          owner: b.owner,
          reason: b.reason,
          reviewAt: typedDate(b['review-day'], b['review-month'], b['review-year']),
        });
        return `Members of "${name}" are exempt from MFA until the review date.`;
      }),
    );

    app.post('/admin/exemptions/accounts', async (request, reply) =>
      change(request, reply, 'account', async (b) => {
        const email = (b.email ?? '').trim().toLowerCase().slice(0, 254);
        await register.exemptAccount(actorOf(request), email, {
          owner: b.owner,
          reason: b.reason,
          reviewAt: typedDate(b['review-day'], b['review-month'], b['review-year']),
        });
        return `${email} is exempt from MFA until the review date.`;
      }),
    );
  };
}
