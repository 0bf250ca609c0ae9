import { z } from 'zod';

/** A Web Push subscription as the browser's PushManager returns it (RFC 8030 / RFC 8291 keys). */
export const pushSubscriptionSchema = z.object({
  endpoint: z.url({ protocol: /^https$/ }).max(2048),
  keys: z.object({
    p256dh: z.string().regex(/^[A-Za-z0-9_-]{80,100}$/),
    auth: z.string().regex(/^[A-Za-z0-9_-]{16,32}$/),
  }),
});

export type PushSubscription = z.infer<typeof pushSubscriptionSchema>;

/** What is pushed to the phone: enough to show the request; never the number to type. */
export interface PushMessage {
  requestId: string;
  purpose: string;
  application: string;
  account: string;
}

/** The outbound channel that wakes a closed app (Web Push); passed in, so tests use a real one locally. */
export interface DeviceNotifier {
  notify(subscription: PushSubscription, message: PushMessage): Promise<void>;
}

/** Which push services a subscription may point at, so a device cannot make the server call anywhere. */
export interface PushEndpointPolicy {
  /** Host names, or suffixes starting with a dot (".push.apple.com"). */
  allowedHosts: string[];
}

export const defaultPushEndpointPolicy: PushEndpointPolicy = {
  allowedHosts: [
    'fcm.googleapis.com',
    'android.googleapis.com',
    'updates.push.services.mozilla.com',
    '.push.apple.com',
    '.notify.windows.com',
  ],
};

export function endpointAllowed(endpoint: string, policy: PushEndpointPolicy): boolean {
  const url = new URL(endpoint);
  if (url.protocol !== 'https:') return false;
  return policy.allowedHosts.some((host) =>
    host.startsWith('.') ? url.hostname.endsWith(host) : url.hostname === host,
  );
}
