import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type EventBus, LocalFanOut, parseBusEvent } from '../../core/events/bus.ts';

export interface RedisBusOptions {
  url: string;
  /** Put before every channel name, so deployments sharing a Redis stay apart. */
  prefix: string;
  logger: Logger;
}

/**
 * Redis pub/sub across instances: one subscriber connection per instance (subscribed once per
 * topic with local subscribers) and one publisher. ioredis reconnects and subscribes again by
 * itself; when it does, subscribers resync, since messages sent meanwhile are gone.
 */
export function redisBus(options: RedisBusOptions): EventBus {
  const { logger } = options;
  const fanOut = new LocalFanOut((error) => logger.error({ err: error }, 'event subscriber failed'));
  const retryStrategy = (times: number) => Math.min(100 * 2 ** Math.min(times, 6), 5000);
  const subscriber = new Redis(options.url, { retryStrategy, maxRetriesPerRequest: null, lazyConnect: true });
  // Offline, a publish waits for a reconnection or two (well under a second), then fails and is
  // logged: a request's write never waits long on the bus, and subscribers resync when it is back.
  const publisher = new Redis(options.url, { retryStrategy, maxRetriesPerRequest: 2, lazyConnect: true });
  let lost = false;
  subscriber.on('error', (error) => logger.warn({ err: error }, 'event bus connection failed'));
  publisher.on('error', (error) => logger.warn({ err: error }, 'event bus publisher connection failed'));
  subscriber.on('close', () => {
    lost = true;
  });
  subscriber.on('ready', () => {
    if (!lost) return;
    lost = false;
    logger.info('event bus reconnected; subscribers resync');
    fanOut.resyncAll();
  });
  subscriber.on('message', (channel: string, message: string) => {
    if (!channel.startsWith(options.prefix)) return;
    const topic = channel.slice(options.prefix.length);
    let event: unknown;
    try {
      event = JSON.parse(message);
    } catch {
      return;
    }
    const parsed = parseBusEvent(event);
    if (parsed) fanOut.deliver(topic, parsed);
  });
  const started = Promise.all([
    subscriber
      .connect()
      .catch((error: unknown) => logger.warn({ err: error }, 'event bus could not connect')),
    publisher.connect().catch((error: unknown) => logger.warn({ err: error }, 'event bus could not connect')),
  ]).then(() => {
    // Not connected yet: its first ready is a reconnection, after which subscribers read afresh.
    lost = subscriber.status !== 'ready';
  });

  return {
    async publish(topic, event) {
      try {
        await publisher.publish(options.prefix + topic, JSON.stringify(event));
      } catch (error) {
        logger.warn({ err: error, topic }, 'event could not be published');
      }
    },
    async subscribe(topic, handler) {
      await started;
      if (fanOut.add(topic, handler)) {
        // Offline, ioredis subscribes on reconnection (then subscribers resync): no waiting for it.
        const subscribed = subscriber.subscribe(options.prefix + topic).catch(() => {});
        if (subscriber.status === 'ready') await subscribed;
      }
      return () => {
        if (fanOut.remove(topic, handler)) subscriber.unsubscribe(options.prefix + topic).catch(() => {});
      };
    },
    async close() {
      subscriber.disconnect();
      publisher.disconnect();
    },
  };
}
