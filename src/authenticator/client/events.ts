import type { DeviceAccount, PendingRequest } from './api.ts';

/** The parts of the browser's EventSource this uses (so that tests can give a stand-in). */
export interface EventSourceLike {
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
  close(): void;
}
export type EventSourceFactory = (url: string) => EventSourceLike;

export interface RequestWatch {
  stop(): void;
}

/** How long to wait before the n-th reconnection in a row: 1 s, 2 s, 4 s … at most 30 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempt));
}

/**
 * Follows a device's pending requests by server-sent events (protocol: "events"). The stream is
 * signed when it opens, and the server ends it after 5 minutes; the browser's own reconnection
 * would reuse the old signature, so every end or error closes it and a freshly signed one is
 * opened, sooner after a clean end and later after repeated failures.
 */
export function watchRequests(
  account: DeviceAccount,
  handlers: {
    onRequests(requests: PendingRequest[]): void;
    onConnection?(connected: boolean): void;
  },
  open: EventSourceFactory = (url) => new EventSource(url),
): RequestWatch {
  let stopped = false;
  let source: EventSourceLike | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let connected = false;
  const setConnected = (now: boolean) => {
    if (now === connected) return;
    connected = now;
    handlers.onConnection?.(now);
  };

  const retry = () => {
    source?.close();
    source = undefined;
    setConnected(false);
    if (stopped) return;
    timer = setTimeout(connect, reconnectDelay(failures++));
  };

  async function connect() {
    if (stopped) return;
    let url: URL;
    try {
      url = await account.eventsUrl();
    } catch {
      retry();
      return;
    }
    if (stopped) return;
    const opened = open(url.href);
    source = opened;
    opened.addEventListener('requests', (event) => {
      if (source !== opened) return;
      failures = 0;
      setConnected(true);
      try {
        const body = JSON.parse(String(event.data)) as { requests?: PendingRequest[] };
        handlers.onRequests(body.requests ?? []);
      } catch {
        // A malformed message: wait for the next.
      }
    });
    opened.addEventListener('error', () => {
      if (source === opened) retry();
    });
  }

  void connect();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      source?.close();
      source = undefined;
    },
  };
}
