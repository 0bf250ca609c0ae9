import type { Logger } from 'pino';
import { type EventBus, inProcessBus } from '../../core/events/bus.ts';

export interface EventBusSettings {
  /** redis://... when configured. */
  url?: string | undefined;
  prefix: string;
  /** The PostgreSQL database, when Gatehouse runs on one: its LISTEN/NOTIFY is the default. */
  postgres?: { url: string; schema?: string | undefined } | undefined;
}

/**
 * The configured engine: Redis when named, else PostgreSQL's own when on PostgreSQL, else
 * in-process. Each engine's client (ioredis, pg) is loaded only when it is the one chosen.
 */
export async function openEventBus(settings: EventBusSettings, logger: Logger): Promise<EventBus> {
  if (settings.url) {
    const { redisBus } = await import('./redis.ts');
    return redisBus({ url: settings.url, prefix: settings.prefix, logger });
  }
  if (settings.postgres) {
    const { postgresBus } = await import('./postgres.ts');
    return postgresBus({
      connectionString: settings.postgres.url,
      namespace: settings.postgres.schema ?? 'public',
      logger,
    });
  }
  return inProcessBus();
}

/** How the bus is described in the start-up log (no password). */
export function describeEventBus(settings: EventBusSettings): string {
  if (settings.url) return 'Redis pub/sub';
  return settings.postgres ? 'PostgreSQL LISTEN/NOTIFY' : 'in-process';
}
