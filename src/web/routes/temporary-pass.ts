import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { type Core, isGatehouseError } from '../../core/index.ts';
import { formBody, summaryAndFields } from '../forms.ts';
import { messageFor } from '../messages.ts';
import { requireStage, signedIn } from '../session.ts';

const passField = z.string().trim().max(64).catch('');

/**
 * After the password, instead of the second factor: the Temporary Access Pass the service desk
 * gave a user who lost their phone. It leads only to registering a new method (the flow moves the
 * session to register_mfa, nowhere else).
 */
export function temporaryPassRoutes(core: Core) {
  const form = (reply: FastifyReply, problem?: string, status = 200) =>
    reply.page(
      'temporary-pass',
      {
        title: 'Use a Temporary Access Pass',
        ...summaryAndFields(problem ? [{ field: 'pass', text: problem }] : []),
      },
      status,
    );

  return async (app: FastifyInstance) => {
    app.addHook('preHandler', requireStage('verify_mfa'));

    app.get('/mfa/verify/pass', async (_request, reply) => form(reply));

    app.post('/mfa/verify/pass', async (request, reply) => {
      const active = signedIn(request);
      const typed = passField.parse(formBody(request.body).pass);
      try {
        const token = await core.flow.useTemporaryPass(active, typed, request.ip);
        reply.setSession(token);
        return reply.redirect('/mfa/register', 303);
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        return form(reply, messageFor(error, core.clock.now()), error.status);
      }
    });
  };
}
