import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type Core, GatehouseError, isGatehouseError } from '../../core/index.ts';
import type { AppPassword, MfaMethod } from '../../core/model.ts';
import { formBody } from '../forms.ts';
import { messageFor } from '../messages.ts';
import { pathPastRefusal, refusalOfChange, requireStage, signedIn } from '../session.ts';
import { formatDateTime } from '../time-format.ts';
import { registerAppPasswordPages } from './app-password-pages.ts';

const methodField = z.string().max(64).catch('');

const kindLabels: Record<string, string> = {
  authenticator_app: 'Authenticator app',
  totp: 'Verification codes',
  passkey: 'Passkey',
};

const describeMethod = (m: MfaMethod) => ({
  id: m.id,
  label: m.label,
  kindLabel: kindLabels[m.kind] ?? m.kind,
  isDefault: m.isDefault,
  suspended: m.status === 'suspended',
  added: formatDateTime(m.createdAt),
  lastUsed: m.lastUsedAt ? formatDateTime(m.lastUsedAt) : 'Never',
});

const describeAppPassword = (p: AppPassword) => ({
  id: p.id,
  name: p.name,
  added: formatDateTime(p.createdAt),
  lastUsed: p.lastUsedAt
    ? `${formatDateTime(p.lastUsedAt)} (${p.lastUsedProtocol?.toUpperCase()} from ${p.lastUsedAddress})`
    : 'Never',
});

const idParam = z.object({ id: z.string().min(1).max(64) });

/** Security info, as in Microsoft's My Sign-Ins: methods, the default one, and app passwords. */
export function securityInfoRoutes(core: Core, smartcards = false) {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireStage('complete'));

    app.get('/profile/security-info', async (request, reply) => {
      const { account, session } = signedIn(request);
      const { methods, appPasswords } = await core.methods.list(account);
      return reply.page('security-info', {
        title: 'Security info',
        flash: await core.sessions.takeFlash(session),
        methods: methods.map(describeMethod),
        appPasswords: appPasswords.map(describeAppPassword),
        smartcards: smartcards
          ? (await core.smartcard.bindings(account.id)).map((card) => ({
              id: card.id,
              subject: card.subject,
              issuer: card.issuer,
              validUntil: formatDateTime(card.notAfter),
              lastUsed: card.lastUsedAt ? formatDateTime(card.lastUsedAt) : 'Never',
            }))
          : undefined,
        defaultChoices: methods
          .filter((m) => m.status === 'active')
          .map((m) => ({
            value: m.id,
            text: `${kindLabels[m.kind] ?? m.kind}: ${m.label}`,
            selected: m.isDefault,
          })),
      });
    });

    app.post('/profile/security-info/default', async (request, reply) => {
      const active = signedIn(request);
      const method = methodField.parse(formBody(request.body).method);
      try {
        await core.flow.setDefault(active, method, request.ip);
        await core.sessions.setFlash(active.session, 'Your default sign-in method was changed.');
      } catch (error) {
        const past = await pathPastRefusal(core, request, error, '/profile/security-info');
        if (past) return reply.redirect(past, 303);
        if (!isGatehouseError(error, 'method_not_found')) throw error;
      }
      return reply.redirect('/profile/security-info', 303);
    });

    app.get('/profile/security-info/methods/:id/remove', async (request, reply) => {
      const { id } = idParam.parse(request.params);
      const active = signedIn(request);
      const method = (await core.methods.list(active.account)).methods.find((m) => m.id === id);
      if (!method) return reply.redirect('/profile/security-info', 303);
      const refused = await refusalOfChange(
        core,
        request,
        `/profile/security-info/methods/${method.id}/remove`,
      );
      if (refused) return reply.redirect(refused, 303);
      return reply.page('confirm-action', {
        title: 'Remove sign-in method',
        heading: `Remove ${method.label}?`,
        paragraphs: ['You will no longer be able to use it to sign in.'],
        action: `/profile/security-info/methods/${method.id}/remove`,
        confirmText: 'Remove',
      });
    });

    app.post('/profile/security-info/methods/:id/remove', async (request, reply) => {
      const { id } = idParam.parse(request.params);
      const active = signedIn(request);
      const method = (await core.methods.list(active.account)).methods.find((m) => m.id === id);
      try {
        if (!method) throw new GatehouseError('method_not_found');
        await core.flow.removeMethod(active, method.kind, id, request.ip);
        await core.sessions.setFlash(active.session, 'The sign-in method was removed.');
      } catch (error) {
        const past = await pathPastRefusal(
          core,
          request,
          error,
          `/profile/security-info/methods/${id}/remove`,
        );
        if (past) return reply.redirect(past, 303);
        if (!isGatehouseError(error)) throw error;
        await core.sessions.setFlash(
          active.session,
          error.code === 'last_method'
            ? messageFor(error, core.clock.now())
            : 'That sign-in method no longer exists.',
        );
      }
      return reply.redirect('/profile/security-info', 303);
    });

    app.get('/profile/security-info/app-passwords/:id/revoke', async (request, reply) => {
      const { id } = idParam.parse(request.params);
      const found = (await core.methods.list(signedIn(request).account)).appPasswords.find(
        (p) => p.id === id,
      );
      if (!found) return reply.redirect('/profile/security-info', 303);
      return reply.page('confirm-action', {
        title: 'Revoke app password',
        heading: `Revoke the app password "${found.name}"?`,
        paragraphs: ['Applications using it will stop working at once.'],
        action: `/profile/security-info/app-passwords/${found.id}/revoke`,
        confirmText: 'Revoke',
      });
    });

    app.post('/profile/security-info/app-passwords/:id/revoke', async (request, reply) => {
      const { id } = idParam.parse(request.params);
      const active = signedIn(request);
      try {
        await core.flow.removeMethod(active, 'app_password', id, request.ip);
        await core.sessions.setFlash(active.session, 'The app password was revoked.');
      } catch (error) {
        if (!isGatehouseError(error, 'method_not_found')) throw error;
      }
      return reply.redirect('/profile/security-info', 303);
    });

    registerAppPasswordPages(app, core, {
      path: '/profile/security-info/app-password',
      caption: 'Security info',
      next: '/profile/security-info',
    });
  };
}
