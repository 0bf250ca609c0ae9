/**
 * The app's service worker: keeps the app shell (page, script, styles, icons) in the Cache API so
 * that the app opens offline and still shows verification codes; shows a notification for a Web
 * Push message (a new request) and opens the app when it is selected. API calls are never cached.
 */

// The DOM library has no service worker types; these are the few parts used here.
interface WaitableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchLikeEvent extends WaitableEvent {
  request: Request;
  respondWith(response: Promise<Response>): void;
}
interface PushLikeEvent extends WaitableEvent {
  data: { json(): unknown; text(): string } | null;
}
interface NotificationLikeEvent extends WaitableEvent {
  notification: Notification;
}
interface WindowClientLike {
  url: string;
  focus(): Promise<unknown>;
}
interface WorkerScope {
  registration: ServiceWorkerRegistration;
  location: Location;
  clients: {
    claim(): Promise<void>;
    matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<WindowClientLike[]>;
    openWindow(url: string): Promise<unknown>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: string, listener: (event: never) => void): void;
}

declare const __SHELL_VERSION__: string;
const scope = self as unknown as WorkerScope;

const CACHE = `gatehouse-authenticator-${__SHELL_VERSION__}`;
const APP = '/authenticator/';
const SHELL = [
  APP,
  '/authenticator/app.js',
  '/authenticator/app.css',
  '/authenticator/manifest.webmanifest',
  '/authenticator/icon.svg',
  '/authenticator/icon-192.png',
  '/authenticator/icon-512.png',
  '/static/nhsuk-frontend.min.css',
  '/static/gatehouse.css',
];

scope.addEventListener('install', (event: WaitableEvent) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(SHELL.map((path) => new Request(path, { cache: 'reload' })));
      await scope.skipWaiting();
    })(),
  );
});

scope.addEventListener('activate', (event: WaitableEvent) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('gatehouse-authenticator-') && name !== CACHE) await caches.delete(name);
      }
      await scope.clients.claim();
    })(),
  );
});

/** The cached copy of a shell file for this request, if it is one. */
function shellPath(request: Request): string | undefined {
  if (request.method !== 'GET') return undefined;
  const url = new URL(request.url);
  if (url.origin !== scope.location.origin) return undefined;
  if (request.mode === 'navigate' && (url.pathname === APP || url.pathname === '/authenticator')) return APP;
  return SHELL.includes(url.pathname) ? url.pathname : undefined;
}

scope.addEventListener('fetch', (event: FetchLikeEvent) => {
  const path = shellPath(event.request);
  if (!path) return;
  // Cache first, so that the app opens at once and offline; the copy is refreshed in the
  // background (a new version of the app also comes with a new service worker).
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      const cached = await cache.match(path);
      const refresh = fetch(path, { cache: 'no-cache' })
        .then(async (response) => {
          if (response.ok) await cache.put(path, response.clone());
          return response;
        })
        .catch(() => undefined);
      if (cached) {
        event.waitUntil(refresh);
        return cached;
      }
      return (await refresh) ?? new Response('Offline', { status: 503, statusText: 'Offline' });
    })(),
  );
});

interface PushPayload {
  requestId?: string;
  purpose?: string;
  application?: string;
  account?: string;
}

scope.addEventListener('push', (event: PushLikeEvent) => {
  let payload: PushPayload = {};
  try {
    payload = (event.data?.json() as PushPayload) ?? {};
  } catch {
    // Not JSON: a notification with the general words.
  }
  const title = payload.purpose === 'registration' ? 'Finish setting up your account' : 'Sign-in request';
  const body = [payload.application, payload.account].filter(Boolean).join(' – ');
  event.waitUntil(
    scope.registration.showNotification(title, {
      body: `${body ? `${body}. ` : ''}Open the app to approve or deny it.`,
      icon: '/authenticator/icon-192.png',
      tag: payload.requestId ?? 'gatehouse-request',
      data: { url: APP },
    }),
  );
});

scope.addEventListener('notificationclick', (event: NotificationLikeEvent) => {
  event.notification.close();
  event.waitUntil(
    (async () => {
      const windows = await scope.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const open = windows.find((client) => new URL(client.url).pathname.startsWith(APP));
      if (open) await open.focus();
      else await scope.clients.openWindow(APP);
    })(),
  );
});
