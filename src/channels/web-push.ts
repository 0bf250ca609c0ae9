import type { Agent } from 'node:https';
import type { FastifyBaseLogger } from 'fastify';
import webpush from 'web-push';
import type { DeviceNotifier } from '../core/methods/authenticator-app/notifier.ts';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

export function newVapidKeys(): VapidKeys {
  return webpush.generateVAPIDKeys();
}

/**
 * Web Push (RFC 8030, payload encrypted per RFC 8291, VAPID per RFC 8292) through the push
 * service each browser chose. A failure is logged and swallowed: the open app's event stream and
 * polling still deliver the request.
 */
export function webPushNotifier(
  vapid: VapidKeys,
  subject: string,
  log: FastifyBaseLogger,
  /** An agent that trusts a private CA, for a push service inside the organisation or a test. */
  agent?: Agent,
): DeviceNotifier {
  return {
    async notify(subscription, message) {
      try {
        await webpush.sendNotification(subscription, JSON.stringify(message), {
          vapidDetails: { subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
          TTL: 120,
          urgency: 'high',
          timeout: 5000,
          ...(agent ? { agent } : {}),
        });
      } catch (error) {
        log.warn({ status: (error as { statusCode?: number }).statusCode }, 'web push delivery failed');
      }
    },
  };
}
