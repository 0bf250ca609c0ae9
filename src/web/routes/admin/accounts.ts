import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type Core, GatehouseError, isGatehouseError } from '../../../core/index.ts';
import { formBody, summaryAndFields } from '../../forms.ts';
import { messageFor } from '../../messages.ts';
import { formatDateTime } from '../../time-format.ts';
import { actorOf } from './guard.ts';

const kindLabels: Record<string, string> = {
  authenticator_app: 'Authenticator app',
  totp: 'Verification codes',
  phone: 'Phone',
};

const when = (date: Date | null | undefined) => (date ? formatDateTime(date) : 'Never');

/** Lifetimes offered (the core accepts any whole number of minutes from 10 to 480). */
export const LIFETIMES = [
  { value: '10', text: '10 minutes' },
  { value: '60', text: '1 hour' },
  { value: '240', text: '4 hours' },
  { value: '480', text: '8 hours' },
];

const searchQuery = z.object({
  q: z.string().catch(''),
  page: z.coerce.number().int().min(1).max(1000).catch(1),
});

const emailParam = z.object({ email: z.string().min(1).max(254) });

function emailOf(request: FastifyRequest): string {
  const parsed = emailParam.safeParse(request.params);
  if (!parsed.success) throw new GatehouseError('account_not_found');
  return parsed.data.email.toLowerCase();
}

/** Which action a form on the account page belongs to, so its error shows beside it. */
type Action = 'pass' | 'revoke-pass' | 'reset-mfa' | 'end-sessions' | 'disable' | 'enable';

export function accountRoutes(core: Core) {
  const now = () => core.clock.now();

  async function accountPage(
    request: FastifyRequest,
    reply: FastifyReply,
    problem?: { action: Action; error: GatehouseError; field: string },
    flash?: string,
  ) {
    const actor = actorOf(request);
    const email = emailOf(request);
    let view: Awaited<ReturnType<Core['console']['overview']>>;
    try {
      view = await core.console.overview(actor, email);
    } catch (error) {
      if (isGatehouseError(error, 'account_not_found')) return unknownAccount(reply, actor.role);
      throw error;
    }
    const { account, eligibility } = view;
    const exempt = eligibility.allowed
      ? null
      : eligibility.reason === 'shared_mailbox'
        ? 'Shared mailbox: several people sign in to it'
        : eligibility.reason === 'account_exempt'
          ? `Exempt on its own: ${eligibility.why} (owner: ${eligibility.owner})`
          : `Member of the excluded group "${eligibility.group}"${eligibility.message ? `: ${eligibility.message}` : ''}`;
    const errors = problem ? [{ field: problem.field, text: messageFor(problem.error, now()) }] : [];
    return reply.page(
      'admin/account',
      {
        title: account.displayName,
        wide: true,
        consoleRole: actor.role,
        canChange: actor.role === 'operator',
        flash,
        action: problem?.action,
        account: {
          email: account.email,
          displayName: account.displayName,
          groups: account.groups.join(', ') || 'None',
          mfa: account.mfaEnabled ? `Enabled ${when(account.mfaEnabledAt)}` : 'Not enabled',
          disabled: account.disabledAt ? when(account.disabledAt) : null,
          role: view.role ?? null,
        },
        exempt,
        path: `/admin/accounts/${encodeURIComponent(account.email)}`,
        methods: view.methods.map((m) => ({
          kind: kindLabels[m.kind] ?? m.kind,
          label: m.label,
          isDefault: m.isDefault,
          added: when(m.createdAt),
          lastUsed: when(m.lastUsedAt),
        })),
        appPasswords: view.appPasswords.map((p) => ({
          name: p.name,
          added: when(p.createdAt),
          lastUsed: p.lastUsedAt ? `${when(p.lastUsedAt)} (${p.lastUsedProtocol?.toUpperCase()})` : 'Never',
        })),
        smartcards: view.smartcards.map((c) => ({
          subject: c.subject,
          issuer: c.issuer,
          validUntil: when(c.notAfter),
          lastUsed: when(c.lastUsedAt),
        })),
        sessions: view.sessions.map((s) => ({
          stage: s.stage === 'complete' ? 'Signed in' : 'Signing in',
          factors: s.factors.join(', '),
          started: when(s.createdAt),
          lastSeen: when(s.lastSeenAt),
        })),
        events: view.events.map((e) => ({
          at: when(e.at),
          type: e.type,
          actor: e.actor ?? '',
          from: e.clientAddress ?? '',
        })),
        pass: view.pass
          ? {
              kind: view.pass.oneTime ? 'One-time' : 'Multi-use',
              expires: when(view.pass.expiresAt),
              uses: view.pass.uses,
              by: view.pass.createdBy,
            }
          : null,
        lifetimes: LIFETIMES.map((l) => ({ ...l, selected: l.value === '60' })),
        ...summaryAndFields(errors),
      },
      problem ? problem.error.status : 200,
    );
  }

  /** Runs an operator's change; its error is shown on the account page, beside its form. */
  async function change(
    request: FastifyRequest,
    reply: FastifyReply,
    action: Action,
    run: (email: string, reason: string | undefined, body: Record<string, string>) => Promise<string>,
  ) {
    const body = formBody(request.body);
    try {
      const done = await run(emailOf(request), body.reason, body);
      return accountPage(request, reply, undefined, done);
    } catch (error) {
      if (!isGatehouseError(error)) throw error;
      if (error.code === 'account_not_found') return unknownAccount(reply, actorOf(request).role);
      const field = error.code === 'console_reason_required' ? `${action}-reason` : `${action}-form`;
      return accountPage(request, reply, { action, error, field });
    }
  }

  return async (app: FastifyInstance) => {
    app.get('/admin', async (_request, reply) => reply.redirect('/admin/accounts', 303));

    app.get('/admin/accounts', async (request, reply) => {
      const actor = actorOf(request);
      const { q, page } = searchQuery.parse(request.query ?? {});
      const context = {
        title: 'Find an account',
        wide: true,
        consoleRole: actor.role,
        q: q.slice(0, 254),
        page,
      };
      try {
        const result = await core.console.search(q, page);
        return reply.page('admin/search', {
          ...context,
          searched: q.trim().length > 0,
          accounts: result.accounts.map((a) => ({
            email: a.email,
            href: `/admin/accounts/${encodeURIComponent(a.email)}`,
            name: a.displayName,
            mfa: a.mfaEnabled ? 'Enabled' : 'Not enabled',
            disabled: a.disabledAt != null,
          })),
          previous: page > 1 ? `/admin/accounts?q=${encodeURIComponent(q)}&page=${page - 1}` : null,
          next: result.more ? `/admin/accounts?q=${encodeURIComponent(q)}&page=${page + 1}` : null,
        });
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        return reply.page(
          'admin/search',
          { ...context, q: '', ...summaryAndFields([{ field: 'q', text: messageFor(error, now()) }]) },
          error.status,
        );
      }
    });

    app.get('/admin/accounts/:email', async (request, reply) => accountPage(request, reply));

    app.post('/admin/accounts/:email/temporary-pass', async (request, reply) => {
      const body = formBody(request.body);
      const actor = actorOf(request);
      try {
        const email = emailOf(request);
        const lifetimeMinutes = /^\d{1,4}$/.test(body.lifetime ?? '') ? Number(body.lifetime) : Number.NaN;
        const issued = await core.console.issuePass(actor, email, {
          lifetimeMinutes,
          oneTime: body.uses !== 'multi',
          reason: body.reason,
        });
        return reply.page('admin/pass-issued', {
          title: 'Temporary Access Pass',
          consoleRole: actor.role,
          email,
          back: `/admin/accounts/${encodeURIComponent(email)}`,
          pass: issued.pass,
          expires: when(issued.expiresAt),
          oneTime: body.uses !== 'multi',
        });
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        if (error.code === 'account_not_found') return unknownAccount(reply, actor.role);
        const field = error.code === 'console_reason_required' ? 'pass-reason' : 'lifetime';
        return accountPage(request, reply, { action: 'pass', error, field });
      }
    });

    app.post('/admin/accounts/:email/temporary-pass/revoke', async (request, reply) =>
      change(request, reply, 'revoke-pass', async (email, reason) =>
        (await core.console.revokePass(actorOf(request), email, reason))
          ? 'The Temporary Access Pass was revoked.'
          : 'There was no Temporary Access Pass to revoke.',
      ),
    );

    app.post('/admin/accounts/:email/reset-mfa', async (request, reply) =>
      change(request, reply, 'reset-mfa', async (email, reason) => {
        await core.console.resetMfa(actorOf(request), email, reason);
        return 'MFA was reset: methods, app passwords and sessions removed. The user registers again at next sign-in.';
      }),
    );

    app.post('/admin/accounts/:email/end-sessions', async (request, reply) =>
      change(request, reply, 'end-sessions', async (email, reason) => {
        const ended = await core.console.endSessions(actorOf(request), email, reason);
        return `${ended} session${ended === 1 ? '' : 's'} ended.`;
      }),
    );

    for (const [action, disabled] of [
      ['disable', true],
      ['enable', false],
    ] as const) {
      app.post(`/admin/accounts/:email/${action}`, async (request, reply) =>
        change(request, reply, action, async (email, reason) => {
          const changed = await core.console.setDisabled(actorOf(request), email, disabled, reason);
          if (!changed)
            return disabled ? 'The account was already disabled.' : 'The account was not disabled.';
          return disabled
            ? 'The account was disabled: it cannot sign in anywhere, and its sessions have ended.'
            : 'The account was re-enabled.';
        }),
      );
    }
  };
}

function unknownAccount(reply: FastifyReply, role: string) {
  return reply.page(
    'error',
    {
      title: 'No such account',
      heading: 'No such account',
      paragraphs: ['There is no account with that email address. Nothing was changed.'],
      backLink: { href: '/admin/accounts', text: 'Find an account' },
      consoleRole: role,
    },
    404,
  );
}
