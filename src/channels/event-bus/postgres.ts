import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import { type EventBus, LocalFanOut, parseBusEvent } from '../../core/events/bus.ts';

export interface PostgresBusOptions {
  connectionString: string;
  /** Keeps the channels of one deployment (its schema) apart from others on the same database. */
  namespace: string;
  logger: Logger;
  /** Backoff between reconnection attempts, doubling from `minMs` up to `maxMs`. */
  reconnect?: { minMs: number; maxMs: number };
}

/**
 * PostgreSQL LISTEN/NOTIFY across instances. One dedicated connection per instance listens, once
 * per topic that has local subscribers, and fans each notification out here. When that
 * connection drops (a restart, a failover) it reconnects with backoff, listens again and tells
 * every subscriber to resync: notifications sent while it was away are gone. NOTIFY goes through a
 * small pool of its own, so a publisher never waits behind the listener.
 */
export function postgresBus(options: PostgresBusOptions): EventBus {
  const { logger } = options;
  const backoff = options.reconnect ?? { minMs: 100, maxMs: 5000 };
  const fanOut = new LocalFanOut((error) => logger.error({ err: error }, 'event subscriber failed'));
  const channelOf = (topic: string) =>
    `gh_${createHash('sha256').update(`${options.namespace}\n${topic}`).digest('hex').slice(0, 40)}`;
  const topicOfChannel = new Map<string, string>();
  const notifier = new pg.Pool({
    connectionString: options.connectionString,
    max: 2,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5000,
  });
  notifier.on('error', (error) => logger.warn({ err: error }, 'event bus publisher connection failed'));

  let listener: pg.Client | undefined;
  /** The latest connection attempt's client: events of older ones are ignored. */
  let current: pg.Client | undefined;
  let closed = false;
  let everConnected = false;
  let delay = backoff.minMs;
  let retry: NodeJS.Timeout | undefined;
  let firstConnection: Promise<void>;

  const quote = (channel: string) => `"${channel}"`;
  // One statement at a time on the listening connection (pg would queue them, but deprecates it).
  let queue: Promise<unknown> = Promise.resolve();
  const onListener = (client: pg.Client, statement: string) => {
    const run = queue.then(() => client.query(statement));
    queue = run.catch(() => {});
    return run;
  };
  const listen = async (client: pg.Client, topic: string) => {
    const channel = channelOf(topic);
    topicOfChannel.set(channel, topic);
    await onListener(client, `LISTEN ${quote(channel)}`);
  };

  function scheduleReconnect(client: pg.Client) {
    if (client !== current) return;
    current = undefined;
    listener = undefined;
    client.removeAllListeners('notification');
    client.end().catch(() => {});
    if (closed || retry) return;
    logger.warn({ retryInMs: delay }, 'event bus connection lost; reconnecting');
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, backoff.maxMs);
  }

  async function connect(): Promise<void> {
    if (closed) return;
    const client = new pg.Client({
      connectionString: options.connectionString,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    });
    current = client;
    // Without a handler, an error event (the server going away) would end the process.
    client.on('error', (error) => {
      logger.warn({ err: error }, 'event bus connection failed');
      scheduleReconnect(client);
    });
    client.on('end', () => scheduleReconnect(client));
    client.on('notification', (message) => {
      const topic = topicOfChannel.get(message.channel);
      if (!topic || !message.payload) return;
      let body: unknown;
      try {
        body = JSON.parse(message.payload);
      } catch {
        return;
      }
      const { topic: named, event } = (body ?? {}) as { topic?: unknown; event?: unknown };
      const parsed = parseBusEvent(event);
      if (named === topic && parsed) fanOut.deliver(topic, parsed);
    });
    try {
      await client.connect();
      queue = Promise.resolve();
      listener = client;
      for (const topic of fanOut.names()) await listen(client, topic);
    } catch (error) {
      logger.warn({ err: error }, 'event bus could not connect');
      scheduleReconnect(client);
      return;
    }
    if (closed) {
      await client.end().catch(() => {});
      return;
    }
    delay = backoff.minMs;
    if (everConnected) {
      logger.info('event bus reconnected; subscribers resync');
      fanOut.resyncAll();
    }
    everConnected = true;
  }

  firstConnection = connect();

  return {
    async publish(topic, event) {
      if (closed) return;
      const args = [channelOf(topic), JSON.stringify({ topic, event })];
      // Once more on failure: after a restart the first try may take a connection the server ended.
      for (let attempt = 1; ; attempt++) {
        try {
          await notifier.query('select pg_notify($1, $2)', args);
          return;
        } catch (error) {
          if (attempt >= 2) {
            logger.warn({ err: error, topic }, 'event could not be published');
            return;
          }
        }
      }
    },
    async subscribe(topic, handler) {
      await firstConnection;
      const first = fanOut.add(topic, handler);
      const client = listener;
      if (first && client) {
        // A failure here means the connection is going: its reconnection listens again and resyncs.
        await listen(client, topic).catch(() => {});
      }
      return () => {
        if (!fanOut.remove(topic, handler)) return;
        const channel = channelOf(topic);
        topicOfChannel.delete(channel);
        if (listener) onListener(listener, `UNLISTEN ${quote(channel)}`).catch(() => {});
      };
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const client = listener;
      listener = undefined;
      current = undefined;
      await client?.end().catch(() => {});
      await notifier.end().catch(() => {});
    },
  };
}
