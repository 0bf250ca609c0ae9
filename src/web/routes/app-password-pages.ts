import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type Core, isGatehouseError } from '../../core/index.ts';
import { formBody, summaryAndFields } from '../forms.ts';
import { hasMessage, messageFor } from '../messages.ts';
import { pathPastRefusal, signedIn } from '../session.ts';

const nameField = z.string().max(1000).catch('');

/**
 * The two app password pages (name, then the key password shown once), mounted in the
 * registration wizard and in Security info with their own address, caption and next page. Making
 * one needs a second factor proved recently: a password alone never makes an app password.
 */
export function registerAppPasswordPages(
  app: FastifyInstance,
  core: Core,
  where: { path: string; caption: string; next: string },
): void {
  const show = (name = '', problem?: string) => ({
    title: 'Create an app password',
    action: where.path,
    caption: where.caption,
    name,
    ...summaryAndFields(problem ? [{ field: 'name', text: problem }] : []),
  });

  app.get(where.path, async (request, reply) => {
    try {
      await core.flow.startEnrolment(signedIn(request), 'app_password', {}, request.ip);
    } catch (error) {
      const past = await pathPastRefusal(core, request, error, where.path);
      if (past) return reply.redirect(past, 303);
      if (!isGatehouseError(error, 'too_many_app_passwords')) throw error;
      return reply.page('app-password-name', show('', messageFor(error, core.clock.now())), error.status);
    }
    return reply.page('app-password-name', show());
  });

  app.post(where.path, async (request, reply) => {
    const name = nameField.parse(formBody(request.body).name);
    try {
      const outcome = await core.flow.finishEnrolment(
        signedIn(request),
        'app_password',
        { name },
        request.ip,
      );
      if (outcome.status !== 'done') return reply.redirect(where.path, 303);
      const { appPassword, keyPassword } = outcome.result;
      // Shown in this response only: it is never stored in the clear, nor in the session.
      return reply.page('app-password-created', {
        title: 'Your app password',
        caption: where.caption,
        name: appPassword.name,
        keyPassword,
        next: where.next,
      });
    } catch (error) {
      const past = await pathPastRefusal(core, request, error, where.path);
      if (past) return reply.redirect(past, 303);
      if (!isGatehouseError(error) || !error.code.includes('app_password') || !hasMessage(error.code))
        throw error;
      return reply.page(
        'app-password-name',
        show(name.slice(0, 64), messageFor(error, core.clock.now())),
        400,
      );
    }
  });
}
