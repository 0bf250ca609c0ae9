/** Web Push for the app: one service worker registration and subscription per account. */
import type { DeviceAccount } from '../client/api.ts';
import { base64urlBytes } from './format.ts';
import { type StoredAccount, saveAccount } from './storage.ts';

/** Web Push needs a service worker, PushManager and notifications. */
export function pushSupported(): boolean {
  return 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

/** Each account has its own registration (scope), since a subscription has one server's key. */
export const pushScope = (account: StoredAccount) => `/authenticator/push/${account.id}/`;

async function activeRegistration(scope: string): Promise<ServiceWorkerRegistration> {
  const registration = await navigator.serviceWorker.register('/authenticator/sw.js', { scope });
  if (registration.active) return registration;
  const worker = registration.installing ?? registration.waiting;
  await new Promise<void>((resolve, reject) => {
    if (!worker) return reject(new Error('the service worker did not start'));
    worker.addEventListener('statechange', () => {
      if (worker.state === 'activated') resolve();
      if (worker.state === 'redundant') reject(new Error('the service worker did not start'));
    });
  });
  return registration;
}

/** Subscribes one account (false when its server sends no Web Push); throws when the browser cannot. */
export async function subscribeAccount(account: StoredAccount, device: DeviceAccount): Promise<boolean> {
  const key = await device.pushKey();
  if (!key) return false;
  const registration = await activeRegistration(pushScope(account));
  try {
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: base64urlBytes(key),
    });
    const json = subscription.toJSON();
    await device.subscribePush({
      endpoint: subscription.endpoint,
      keys: { p256dh: json.keys?.p256dh ?? '', auth: json.keys?.auth ?? '' },
    });
  } catch (error) {
    await registration.unregister().catch(() => false);
    throw error;
  }
  account.push = true;
  await saveAccount(account);
  return true;
}

export async function unsubscribePush(account: StoredAccount) {
  if (!('serviceWorker' in navigator)) return;
  try {
    const registration = await navigator.serviceWorker.getRegistration(pushScope(account));
    if (registration && new URL(registration.scope).pathname === pushScope(account)) {
      await (await registration.pushManager.getSubscription())?.unsubscribe();
      await registration.unregister();
    }
  } catch {
    // Nothing more to do: the server has forgotten the device anyway.
  }
}
