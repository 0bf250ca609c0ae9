import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import twilio from 'twilio';
import { z } from 'zod';
import type { ProviderDeps } from '../provider.ts';
import { closingTwiml, outcomeOfCallStatus, outcomeOfDigits, verificationTwiml } from './twiml.ts';

/** Where Twilio reaches the portal; `:id` is the challenge the call verifies. */
export const TWILIO_CALLS_PATH = '/telephony/twilio/calls';

export interface WebhookOptions {
  authToken: string;
  /** The portal's address as Twilio reaches it (no trailing slash). */
  baseUrl: string;
  keySeconds: number;
}

const callParams = z.object({ id: z.uuid() });
/** Twilio's form fields are all text; anything else cannot be one of its requests. */
const twilioForm = z.record(
  z.string().max(64),
  z
    .string()
    .max(4096)
    .or(z.array(z.string().max(4096))),
);
const gatherForm = z.object({ Digits: z.string().max(64).optional() });
const statusForm = z.object({ CallStatus: z.string().max(32).optional() });
const twimlQuery = z.object({ say: z.string().min(1).max(1000) });

/**
 * Twilio's webhooks for a call: the TwiML to play, the keys pressed, and how the call ended.
 * Every request must carry X-Twilio-Signature made with the auth token over the exact URL and
 * form fields; the challenge id in the URL alone proves nothing. A refused request gets 403,
 * changes nothing, and is audited. Replays are harmless: the core settles a challenge once.
 */
export function twilioWebhookRoutes(options: WebhookOptions, deps: ProviderDeps) {
  return async (app: FastifyInstance) => {
    app.addHook('preHandler', async (request, reply) => {
      if (signedByTwilio(request)) return;
      const id = callParams.safeParse(request.params);
      const signature = request.headers['x-twilio-signature'];
      request.log.warn(
        { route: request.routeOptions.url },
        'refused a Twilio webhook without a valid signature',
      );
      await deps.audit?.({
        type: 'phone.webhook_refused',
        clientAddress: request.ip,
        detail: {
          provider: 'twilio',
          route: request.routeOptions.url,
          challenge: id.success ? id.data.id : null,
          reason: signature ? 'bad_signature' : 'no_signature',
        },
      });
      return reply.code(403).type('text/plain').send('Forbidden');
    });

    const config = { csrf: false } as const;

    app.post(`${TWILIO_CALLS_PATH}/:id/twiml`, { config }, async (request, reply) => {
      const { id } = callParams.parse(request.params);
      const query = twimlQuery.safeParse(request.query);
      if (!query.success) return twiml(reply.code(400), closingTwiml(undefined));
      const action = `${options.baseUrl}${TWILIO_CALLS_PATH}/${id}/gather`;
      return twiml(reply, verificationTwiml(query.data.say, action, options.keySeconds));
    });

    app.post(`${TWILIO_CALLS_PATH}/:id/gather`, { config }, async (request, reply) => {
      const { id } = callParams.parse(request.params);
      const outcome = outcomeOfDigits(gatherForm.catch({}).parse(request.body).Digits);
      if (outcome) await deps.onOutcome(id, outcome);
      return twiml(reply, closingTwiml(outcome));
    });

    app.post(`${TWILIO_CALLS_PATH}/:id/status`, { config }, async (request, reply) => {
      const { id } = callParams.parse(request.params);
      const outcome = outcomeOfCallStatus(statusForm.catch({}).parse(request.body).CallStatus);
      if (outcome) await deps.onOutcome(id, outcome);
      return reply.code(204).send();
    });
  };

  function signedByTwilio(request: FastifyRequest): boolean {
    const signature = request.headers['x-twilio-signature'];
    const form = twilioForm.safeParse(request.body ?? {});
    if (typeof signature !== 'string' || !form.success) return false;
    // The URL Twilio was given and signed: the configured address plus the path and query asked for.
    return twilio.validateRequest(
      options.authToken,
      signature,
      `${options.baseUrl}${request.url}`,
      form.data,
    );
  }
}

const twiml = (reply: FastifyReply, xml: string) => reply.type('text/xml; charset=utf-8').send(xml);
