import { createECDH } from 'node:crypto';
import type { Agent } from 'node:https';
import type { FastifyBaseLogger } from 'fastify';
import type { DeviceNotifier } from '../core/methods/authenticator-app/notifier.ts';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/**
 * A VAPID key pair (RFC 8292: P-256, the public key uncompressed, both base64url), made with
 * node:crypto as web-push itself does, so that the start does not load web-push; it is loaded on
 * the first notification.
 */
export function newVapidKeys(): VapidKeys {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  // The private key is a 32-octet number; OpenSSL drops its leading zero octets, so put them back.
  const privateKey = Buffer.alloc(32);
  const raw = ecdh.getPrivateKey();
  raw.copy(privateKey, 32 - raw.length);
  return {
    publicKey: ecdh.getPublicKey().toString('base64url'),
    privateKey: privateKey.toString('base64url'),
  };
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
        const { default: webpush } = await import('web-push');
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
