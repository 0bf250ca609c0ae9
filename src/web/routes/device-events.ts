import type { FastifyReply } from 'fastify';
import { coalesced, type EventStream, openEventStream } from '../event-stream.ts';

interface Pending {
  expiresAt: string;
}

/**
 * Server-sent events of a device's pending requests. On connect, one read of what is pending (a
 * stream that reconnects misses nothing); after that, a read only when the bus says a request of
 * this device changed (on any instance), when the bus reconnected, or when a listed request
 * expires. An idle stream costs no database query.
 */
export async function streamDeviceEvents(
  reply: FastifyReply,
  parts: {
    pending: () => Promise<Pending[]>;
    watch: (changed: () => void) => Promise<() => void>;
    onStop: (stream: EventStream) => void;
  },
): Promise<EventStream> {
  let unsubscribe: (() => void) | undefined;
  let expiry: NodeJS.Timeout | undefined;
  let last = '';
  const stream: EventStream = openEventStream(reply, {
    headers: { 'access-control-allow-origin': '*' },
    onStop() {
      clearTimeout(expiry);
      unsubscribe?.();
      parts.onStop(stream);
    },
  });
  const read = coalesced(async () => {
    if (stream.closed) return;
    try {
      const requests = await parts.pending();
      const json = JSON.stringify({ requests });
      if (json !== last) {
        last = json;
        stream.send('requests', { requests });
      }
      // A request that times out leaves the list: read again when the first one does.
      clearTimeout(expiry);
      const first = Math.min(...requests.map((r) => Date.parse(r.expiresAt)));
      if (Number.isFinite(first) && !stream.closed)
        expiry = setTimeout(read, Math.max(first - Date.now(), 0) + 50);
    } catch (error) {
      reply.log.warn({ err: error }, 'reading the pending requests of a device failed');
    }
  });
  try {
    unsubscribe = await parts.watch(read);
  } catch (error) {
    reply.log.error({ err: error }, 'subscribing to device events failed');
  }
  if (stream.closed) unsubscribe?.();
  else read();
  return stream;
}
