import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CallOutcome, CallOutcomeSink, Telephony } from '../core/methods/phone/telephony.ts';
import { formBody } from '../web/forms.ts';

interface RingingCall {
  challengeId: string;
  to: string;
  message: string;
  keys: string;
  at: Date;
}

const KEEP = 20;

/**
 * A phone inside the portal for laptops and demonstrations: calls "ring" on /dev/phone, which has a
 * keypad; texts arrive in its inbox. It answers for every number, so it is off unless configured.
 */
export function developmentPhone(onOutcome: CallOutcomeSink) {
  const ringing = new Map<string, RingingCall>();
  const texts: { to: string; text: string; at: Date }[] = [];

  const telephony: Telephony = {
    async placeCall(call) {
      ringing.set(call.challengeId, { ...call, keys: '', at: new Date() });
      while (ringing.size > KEEP) ringing.delete(ringing.keys().next().value as string);
    },
    async sendText(message) {
      texts.unshift({ to: message.to, text: message.text, at: new Date() });
      texts.length = Math.min(texts.length, KEEP);
    },
  };

  const end = async (challengeId: string, outcome: CallOutcome) => {
    ringing.delete(challengeId);
    await onOutcome(challengeId, outcome);
  };

  const routes = async (app: FastifyInstance) => {
    app.get('/dev/phone', async (_request, reply) =>
      reply.page('dev-phone', { title: 'Development phone', calls: [...ringing.values()], texts }),
    );
    const callParams = z.object({ id: z.string().uuid() });
    app.post('/dev/phone/calls/:id/key', async (request, reply) => {
      const { id } = callParams.parse(request.params);
      const key = z
        .enum(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#'])
        .safeParse(formBody(request.body).key);
      const call = ringing.get(id);
      if (call && key.success) {
        // As the automated voice does: # ends the input; nothing before it confirms, 0 reports.
        if (key.data !== '#') call.keys = `${call.keys}${key.data}`.slice(-8);
        else await end(id, call.keys === '' ? 'confirmed' : call.keys === '0' ? 'reported' : 'wrong_key');
      }
      return reply.redirect('/dev/phone', 303);
    });
    app.post('/dev/phone/calls/:id/decline', async (request, reply) => {
      const { id } = callParams.parse(request.params);
      if (ringing.has(id)) await end(id, 'rejected');
      return reply.redirect('/dev/phone', 303);
    });
    app.post('/dev/phone/calls/:id/ignore', async (request, reply) => {
      const { id } = callParams.parse(request.params);
      if (ringing.has(id)) await end(id, 'no_answer');
      return reply.redirect('/dev/phone', 303);
    });
  };

  return { telephony, routes };
}
