import type { FastifyReply } from 'fastify';
import { coalesced, type EventStream, openEventStream } from '../event-stream.ts';

/** Longer than any stream lives (it ends after five minutes), and within setTimeout's range. */
const MAX_EXPIRY_WAIT_MS = 10 * 60_000;

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
    /** The core's clock, in which requests expire (milliseconds). */
    now: () => number;
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
      if (Number.isFinite(first) && !stream.closed) {
        // At least a second apart (never a tight loop), and within the stream's own lifetime.
        const delay = Math.min(Math.max(first - parts.now() + 50, 1000), MAX_EXPIRY_WAIT_MS);
        expiry = setTimeout(read, delay);
      }
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
