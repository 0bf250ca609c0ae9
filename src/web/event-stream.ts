import type { FastifyReply } from 'fastify';

const HEARTBEAT_MS = 15_000;
/** Clients reconnect (and are checked afresh); a stream never outlives its signature or session check. */
const STREAM_MS = 5 * 60_000;

export interface EventStream {
  /** Writes one server-sent event. */
  send(event: string, data: unknown): void;
  /** Ends the stream (idempotent). */
  stop(): void;
  readonly closed: boolean;
}

/**
 * Takes over the reply as a text/event-stream. Heartbeats are comments written from a timer: they
 * cost no database query. `onStop` runs once when the client leaves, the stream's time is up or
 * the server closes.
 */
export function openEventStream(
  reply: FastifyReply,
  options: { headers?: Record<string, string>; onStop: () => void },
): EventStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...options.headers,
  });
  // The headers go now: EventSource reports the stream open, before any event.
  raw.flushHeaders();
  let closed = false;
  const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
  const stream: EventStream = {
    send(event, data) {
      if (!closed) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    stop() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      clearTimeout(end);
      raw.end();
      options.onStop();
    },
    get closed() {
      return closed;
    },
  };
  const end = setTimeout(stream.stop, STREAM_MS);
  raw.on('close', stream.stop);
  return stream;
}

/**
 * Runs `work` when asked, one run at a time: a request while one runs makes one more run after
 * it, however many came, so a burst of events costs at most two reads.
 */
export function coalesced(work: () => Promise<void>): () => void {
  let running = false;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await work();
      } while (again);
    } finally {
      running = false;
    }
  };
  return () => void run();
}

/** The open streams of one plugin, ended when the server closes (they would otherwise hold it open). */
export function streamRegistry() {
  const streams = new Set<EventStream>();
  return {
    add(stream: EventStream) {
      if (!stream.closed) streams.add(stream);
    },
    remove(stream: EventStream) {
      streams.delete(stream);
    },
    stopAll() {
      for (const stream of [...streams]) stream.stop();
    },
  };
}
