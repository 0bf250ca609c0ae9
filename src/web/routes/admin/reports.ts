import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RegistrationCategory } from '../../../core/console/reports.ts';
import { activityCsv, REGISTRATION_CATEGORIES } from '../../../core/console/reports.ts';
import { type Core, GatehouseError, isGatehouseError } from '../../../core/index.ts';
import { summaryAndFields } from '../../forms.ts';
import { messageFor } from '../../messages.ts';
import { formatDateTime } from '../../time-format.ts';
import { actorOf } from './guard.ts';

export const CATEGORY_WORDS: Record<RegistrationCategory, string> = {
  all: 'All accounts',
  mfa_enabled: 'MFA enabled',
  mfa_not_enabled: 'MFA not enabled',
  'method:authenticator_app': 'With the authenticator app',
  'method:totp': 'With verification codes',
  'method:phone': 'With a phone',
  'method:smartcard': 'With a smartcard',
  'method:passkey': 'With a passkey',
  none: 'No method registered yet',
  exempt: 'Exempt from MFA',
  shared_mailbox: 'Shared mailboxes',
};

const METHOD_WORDS: Record<string, string> = {
  password: 'Password',
  push: 'Authenticator app (approval)',
  code: 'Verification code',
  phone_call: 'Phone call',
  text: 'Text message',
  smartcard: 'Smartcard',
  passkey: 'Passkey',
  app_password: 'App password',
  legacy_password: 'Password from an older app',
  password_and_push: 'Password and approval (VPN)',
};

const REPORT_WORDS: Record<string, string> = {
  'push.reported': 'Reported from the authenticator app',
  'phone.reported': 'Reported by phone',
  'signin.reported': 'Reported in My sign-ins',
};

/** Each parameter at most once (a repeated one is no filter at all). */
const reportQuery = z.object({
  category: z.string().optional(),
  group: z.string().optional(),
  after: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
});

function queryOf(request: FastifyRequest) {
  const parsed = reportQuery.safeParse(request.query ?? {});
  if (!parsed.success)
    throw new GatehouseError('console_filter_invalid', 'a parameter given twice', { field: 'from' });
  return parsed.data;
}

const listHref = (category: string, group?: string, after?: string) => {
  const params = new URLSearchParams({ category });
  if (group) params.set('group', group);
  if (after) params.set('after', after);
  return `/admin/reports/registration?${params}`;
};

/** Registration and sign-in activity: numbers from SQL aggregates, the lists behind them, CSV. */
export function reportRoutes(core: Core) {
  const reports = core.console.reports;
  const now = () => core.clock.now();

  function problem(reply: FastifyReply, role: string, error: GatehouseError, back: string) {
    return reply.page(
      'error',
      {
        title: 'Check the report',
        heading: 'Check the report',
        paragraphs: [messageFor(error, now()), 'Nothing was changed.'],
        backLink: { href: back, text: 'Back to the reports' },
        consoleRole: role,
      },
      error.status,
    );
  }

  return async (app: FastifyInstance) => {
    app.get('/admin/reports', async (request, reply) => {
      const actor = actorOf(request);
      try {
        const query = queryOf(request);
        const [{ counts, at }, { groups, next }] = await Promise.all([
          reports.registration(),
          reports.groups({ after: query.after }),
        ]);
        return reply.page('admin/reports', {
          title: 'Reports',
          wide: true,
          consoleRole: actor.role,
          at: formatDateTime(at),
          numbers: REGISTRATION_CATEGORIES.map((c) => ({
            id: c.replace(':', '-'),
            words: CATEGORY_WORDS[c],
            count: counts[c],
            href: listHref(c),
          })),
          groups: groups.map((g) => ({
            name: g.group,
            excluded: g.excluded,
            members: g.members,
            membersHref: listHref('all', g.group),
            cells: (['mfa_enabled', 'registered', 'exempt', 'none'] as const).map((k) => ({
              count: g.counts[k],
              href: k === 'registered' ? null : listHref(k, g.group),
            })),
          })),
          nextGroups: next ? `/admin/reports?after=${encodeURIComponent(next)}` : null,
        });
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        return problem(reply, actor.role, error, '/admin/reports');
      }
    });

    app.get('/admin/reports/registration', async (request, reply) => {
      const actor = actorOf(request);
      try {
        const query = queryOf(request);
        const [list, { counts }] = await Promise.all([
          reports.registrationList({ category: query.category, group: query.group, after: query.after }),
          reports.registration({ group: query.group }),
        ]);
        const params = new URLSearchParams({ category: list.category });
        if (list.group) params.set('group', list.group);
        return reply.page('admin/report-list', {
          title: CATEGORY_WORDS[list.category],
          wide: true,
          consoleRole: actor.role,
          group: list.group,
          count: counts[list.category],
          accounts: list.accounts.map((a) => ({
            email: a.email,
            href: `/admin/accounts/${encodeURIComponent(a.email)}`,
            name: a.displayName,
            mfa: a.mfaEnabled ? 'Enabled' : 'Not enabled',
            disabled: a.disabled,
          })),
          first: query.after ? listHref(list.category, list.group) : null,
          next: list.next ? listHref(list.category, list.group, list.next) : null,
          exportHref: `/admin/reports/registration.csv?${params}`,
        });
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        return problem(reply, actor.role, error, '/admin/reports');
      }
    });

    app.get('/admin/reports/registration.csv', async (request, reply) => {
      const actor = actorOf(request);
      let chunks: AsyncGenerator<string>;
      let name = 'registration';
      try {
        const query = queryOf(request);
        chunks = await reports.exportRegistration(actor, { category: query.category, group: query.group });
        name = `registration-${(query.category ?? '').replace(/[^a-z_]/g, '-')}`;
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        return problem(reply, actor.role, error, '/admin/reports');
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}.csv"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(chunks));
    });

    app.get('/admin/reports/activity', async (request, reply) => {
      const actor = actorOf(request);
      let values = { from: '', to: '' };
      try {
        const query = queryOf(request);
        values = { from: (query.from ?? '').slice(0, 40), to: (query.to ?? '').slice(0, 40) };
        const activity = await reports.signInActivity({ from: query.from, to: query.to });
        const lastDay = new Date(activity.to.getTime() - 1).toISOString().slice(0, 10);
        const firstDay = activity.from.toISOString().slice(0, 10);
        const params = new URLSearchParams({ from: firstDay, to: lastDay });
        const auditHref = (type: string) =>
          `/admin/audit?${new URLSearchParams({ type, from: firstDay, to: lastDay })}`;
        return reply.page('admin/activity', {
          title: 'Sign-in activity',
          wide: true,
          consoleRole: actor.role,
          values: { from: values.from || firstDay, to: values.to || lastDay },
          range: `${firstDay} to ${lastDay}`,
          steps: activity.steps.map((s) => ({
            day: s.day,
            method: METHOD_WORDS[s.method] ?? s.method,
            outcome: s.outcome,
            count: s.count,
          })),
          lockouts: activity.lockouts,
          lockoutsHref: auditHref('signin.locked'),
          reports: activity.reports.map((r) => ({
            day: r.day,
            words: REPORT_WORDS[r.type] ?? r.type,
            count: r.count,
            href: auditHref(r.type),
          })),
          exportHref: `/admin/reports/activity.csv?${params}`,
        });
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        const field = error.details.field === 'from' ? 'from' : 'to';
        return reply.page(
          'admin/activity',
          {
            title: 'Sign-in activity',
            wide: true,
            consoleRole: actor.role,
            values,
            failed: true,
            ...summaryAndFields([{ field, text: messageFor(error, now()) }]),
          },
          error.status,
        );
      }
    });

    app.get('/admin/reports/activity.csv', async (request, reply) => {
      const actor = actorOf(request);
      try {
        const query = queryOf(request);
        const activity = await reports.signInActivity({ from: query.from, to: query.to });
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="sign-in-activity.csv"')
          .header('cache-control', 'no-store')
          .send(activityCsv(activity));
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        return problem(reply, actor.role, error, '/admin/reports/activity');
      }
    });
  };
}
