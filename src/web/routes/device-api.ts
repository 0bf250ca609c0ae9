import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { GatehouseError, isDatabaseUnavailable, isGatehouseError } from '../../core/errors.ts';
import type { Core } from '../../core/index.ts';
import { devicePublicKeySchema } from '../../core/methods/authenticator-app/device-signature.ts';
import { pushSubscriptionSchema } from '../../core/methods/authenticator-app/notifier.ts';
import type { PushRequest } from '../../core/model.ts';
import { sendDatabaseUnavailable } from '../error-pages.ts';
import { streamRegistry } from '../event-stream.ts';
import { publicUrlOf } from '../public-url.ts';
import { pushDeliveryTimer } from '../push-delivery.ts';
import { streamDeviceEvents } from './device-events.ts';

/** Bodies here are a key and a few fields. */
const API_BODY_LIMIT = 16 * 1024;

const errorStatus: Partial<Record<string, number>> = {
  invalid_input: 400,
  bad_signature: 401,
  stale_signature: 401,
  activation_not_found: 404,
  device_not_found: 404,
  request_not_found: 404,
  request_already_answered: 409,
  request_expired: 409,
  activation_expired: 410,
  activation_used: 410,
  push_blocked: 429,
  too_many_attempts: 429,
};

const apiMessages: Partial<Record<string, string>> = {
  invalid_input: 'The request is not valid.',
  bad_signature: 'The request was not signed by this device.',
  stale_signature: "The request's time is too far from the server's: check the device's clock.",
  activation_not_found: 'This activation code is not known. Start again on your PC.',
  activation_expired: 'This QR code has expired. Start again on your PC to get a new one.',
  activation_used: 'This QR code has already been used.',
  device_not_found: 'This account is no longer registered on the server.',
  request_not_found: 'This sign-in request is not known.',
  request_already_answered: 'This request has already been answered.',
  request_expired: 'This request has expired.',
};

const signedQuery = z.object({ ts: z.string().max(20), sig: z.string().max(200) });
const id = z.string().min(1).max(64);
const deviceIdParams = z.object({ deviceId: id });
const requestIdParams = z.object({ requestId: id });
const codeParams = z.object({ code: z.string().max(64) });
const activationBody = z.object({
  publicKey: devicePublicKeySchema,
  deviceName: z.string().trim().min(1).max(64),
});
const answerBody = z.object({
  deviceId: id,
  decision: z.enum(['approve', 'deny']),
  number: z.string().max(4).default(''),
  report: z.boolean().default(false),
  timestamp: z.string().max(20),
  signature: z.string().max(200),
});
const removeBody = z.object({ timestamp: z.string().max(20), signature: z.string().max(200) });
const subscribeBody = removeBody.extend({ subscription: pushSubscriptionSchema });

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new GatehouseError('invalid_input');
  return parsed.data;
}

/** The JSON API the authenticator app speaks (docs/authenticator-protocol.md), version 1. */
export function deviceApiRoutes(
  core: Core,
  options: {
    issuer: string;
    publicUrl?: string | undefined;
    vapidPublicKey?: string | undefined;
    /** Told how long each request took to reach its device (metrics). */
    pushDelivered?: ((seconds: number) => void) | undefined;
  },
) {
  return async (app: FastifyInstance) => {
    // The portal's pages take forms only; this API takes JSON, bounded.
    app.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: API_BODY_LIMIT },
      (_req, body, done) => {
        try {
          done(null, JSON.parse(body as string));
        } catch {
          done(new GatehouseError('invalid_input'), undefined);
        }
      },
    );
    // No cookies are used here (every call is signed by the device), so any origin may call:
    // one app holds accounts of several Gatehouse servers.
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('access-control-allow-origin', '*');
      reply.header('cache-control', 'no-store');
    });
    app.options('/*', { config: { csrf: false } }, async (_request, reply) =>
      reply
        .header('access-control-allow-methods', 'GET, POST')
        .header('access-control-allow-headers', 'content-type')
        .header('access-control-max-age', '600')
        .code(204)
        .send(),
    );
    app.setErrorHandler(async (error, request, reply) => sendError(request, reply, error));
    // Open event streams would otherwise hold the server open at shutdown.
    const streams = streamRegistry();
    app.addHook('onClose', async () => streams.stopAll());
    app.setNotFoundHandler(async (request, reply) =>
      sendError(request, reply, new GatehouseError('request_not_found')),
    );

    const pushDelivered = options.pushDelivered;
    const delivered = pushDelivered
      ? pushDeliveryTimer(pushDelivered, () => core.clock.now().getTime())
      : () => {};
    const accountNames = async (requests: PushRequest[]) => {
      delivered(requests);
      const emails = new Map<string, string>();
      for (const r of requests) {
        if (!emails.has(r.accountId))
          emails.set(r.accountId, (await core.accounts.findById(r.accountId))?.email ?? '');
      }
      return requests.map((r) => describeRequest(r, emails.get(r.accountId) ?? '', options.issuer));
    };

    app.post('/activations/:code', { config: { csrf: false } }, async (request) => {
      const { code } = parse(codeParams, request.params);
      const body = parse(activationBody, request.body);
      const result = await core.authenticatorApp.completeActivation({
        code,
        ...body,
        clientAddress: request.ip,
      });
      return {
        deviceId: result.device.id,
        account: result.account.email,
        issuer: options.issuer,
        server: publicUrlOf(request, options.publicUrl),
        totp: result.totp,
      };
    });

    app.get('/devices/:deviceId/requests', async (request) => {
      const { deviceId } = parse(deviceIdParams, request.params);
      const { ts, sig } = parse(signedQuery, request.query);
      const { requests } = await core.authenticatorApp.pendingForDevice(
        { deviceId, timestamp: ts, signature: sig, clientAddress: request.ip },
        'list',
      );
      return { requests: await accountNames(requests) };
    });

    app.get('/devices/:deviceId/events', async (request, reply) => {
      const { deviceId } = parse(deviceIdParams, request.params);
      const { ts, sig } = parse(signedQuery, request.query);
      const { device } = await core.authenticatorApp.pendingForDevice(
        { deviceId, timestamp: ts, signature: sig, clientAddress: request.ip },
        'events',
      );
      const stream = await streamDeviceEvents(reply, {
        pending: async () => accountNames(await core.authenticatorApp.pendingOf(device.id)),
        watch: (changed) => core.authenticatorApp.watchDevice(device.id, changed),
        onStop: (stopped) => streams.remove(stopped),
        now: () => core.clock.now().getTime(),
      });
      streams.add(stream);
    });

    app.post('/requests/:requestId/answer', { config: { csrf: false } }, async (request) => {
      const { requestId } = parse(requestIdParams, request.params);
      const body = parse(answerBody, request.body);
      const status = await core.authenticatorApp.answer({ ...body, requestId, clientAddress: request.ip });
      // Protocol v1 answers "denied" to a denial with or without a report: the app knows which it sent.
      return { status: status === 'reported' ? 'denied' : status };
    });

    app.get('/push-key', async (_request, reply) => {
      if (!options.vapidPublicKey) return sendError(_request, reply, new GatehouseError('request_not_found'));
      return { vapidPublicKey: options.vapidPublicKey };
    });

    app.post('/devices/:deviceId/push-subscription', { config: { csrf: false } }, async (request) => {
      const { deviceId } = parse(deviceIdParams, request.params);
      const body = parse(subscribeBody, request.body);
      await core.authenticatorApp.subscribe(
        { deviceId, timestamp: body.timestamp, signature: body.signature, clientAddress: request.ip },
        body.subscription,
      );
      return { subscribed: true };
    });

    app.post('/devices/:deviceId/remove', { config: { csrf: false } }, async (request) => {
      const { deviceId } = parse(deviceIdParams, request.params);
      const body = parse(removeBody, request.body);
      await core.authenticatorApp.removeDevice({ deviceId, ...body, clientAddress: request.ip });
      return { removed: true };
    });
  };
}

function describeRequest(r: PushRequest, account: string, issuer: string) {
  return {
    id: r.id,
    purpose: r.purpose,
    account,
    issuer,
    application: r.application,
    createdAt: r.createdAt.toISOString(),
    expiresAt: r.expiresAt.toISOString(),
    clientAddress: r.clientAddress,
    // No location database is shipped; the address is what Gatehouse knows for certain.
    location: r.clientAddress,
  };
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown) {
  if (isDatabaseUnavailable(error)) return sendDatabaseUnavailable(request, reply, error);
  if (isGatehouseError(error)) {
    return reply.code(errorStatus[error.code] ?? 400).send({
      error: { code: error.code, message: apiMessages[error.code] ?? 'The request cannot be completed.' },
    });
  }
  const status = (error as { statusCode?: number }).statusCode;
  if (status === 413) {
    return reply.code(413).send({ error: { code: 'body_too_large', message: 'The request is too large.' } });
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return reply.code(400).send({ error: { code: 'invalid_input', message: 'The request is not valid.' } });
  }
  request.log.error({ err: error }, 'device API error');
  return reply
    .code(500)
    .send({ error: { code: 'server_error', message: 'Something went wrong on the server.' } });
}
