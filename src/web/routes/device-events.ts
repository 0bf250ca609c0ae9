import type { FastifyReply } from 'fastify';

const POLL_MS = 1000;
const HEARTBEAT_MS = 15_000;
/** Clients reconnect with a fresh signature; a stream never outlives its signature's window. */
const STREAM_MS = 5 * 60_000;

/**
 * Server-sent events of a device's pending requests. The database is polled, so a request raised
 * by any instance behind the load balancer reaches an app connected to any other.
 */
export function streamDeviceEvents(reply: FastifyReply, pending: () => Promise<unknown[]>): () => void {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'access-control-allow-origin': '*',
    'x-accel-buffering': 'no',
  });
  let last = '';
  let closed = false;
  const send = async () => {
    if (closed) return;
    try {
      const requests = await pending();
      const json = JSON.stringify({ requests });
      if (json !== last) {
        last = json;
        raw.write(`event: requests\ndata: ${json}\n\n`);
      }
    } catch (error) {
      reply.log.warn({ err: error }, 'device event poll failed');
    }
  };
  const poll = setInterval(send, POLL_MS);
  const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
  const stop = () => {
    if (closed) return;
    closed = true;
    clearInterval(poll);
    clearInterval(heartbeat);
    clearTimeout(end);
    raw.end();
  };
  const end = setTimeout(stop, STREAM_MS);
  raw.on('close', stop);
  void send();
  return stop;
}
