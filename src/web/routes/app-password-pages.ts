import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type Core, isGatehouseError } from '../../core/index.ts';
import { formBody, summaryAndFields } from '../forms.ts';
import { signedIn } from '../session.ts';

const nameMessages: Record<string, string> = {
  app_password_name_invalid: 'Enter a password name of at least 8 characters (at most 64)',
  app_password_name_taken: 'You already have an app password with this name. Choose another name',
  too_many_app_passwords: 'You have 20 app passwords, the most allowed. Revoke one you no longer use first',
};

/**
 * The two app password pages (name, then the key password shown once), mounted in the
 * registration wizard and in Security info with their own address, caption and next page.
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

  app.get(where.path, async (_request, reply) => reply.page('app-password-name', show()));

  app.post(where.path, async (request, reply) => {
    const { account } = signedIn(request);
    const name = z.string().max(1000).catch('').parse(formBody(request.body).name);
    try {
      const { appPassword, keyPassword } = await core.appPasswords.create(account, name, request.ip);
      // Shown in this response only: it is never stored in the clear, nor in the session.
      return reply.page('app-password-created', {
        title: 'Your app password',
        caption: where.caption,
        name: appPassword.name,
        keyPassword,
        next: where.next,
      });
    } catch (error) {
      if (!isGatehouseError(error) || !nameMessages[error.code]) throw error;
      return reply.page('app-password-name', show(name.slice(0, 64), nameMessages[error.code]), 400);
    }
  });
}
