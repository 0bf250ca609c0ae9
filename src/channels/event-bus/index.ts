import type { Logger } from 'pino';
import { type EventBus, inProcessBus } from '../../core/events/bus.ts';
import { postgresBus } from './postgres.ts';
import { redisBus } from './redis.ts';

export interface EventBusSettings {
  /** redis://... when configured. */
  url?: string | undefined;
  prefix: string;
  /** The PostgreSQL database, when Gatehouse runs on one: its LISTEN/NOTIFY is the default. */
  postgres?: { url: string; schema?: string | undefined } | undefined;
}

/** The configured engine: Redis when named, else PostgreSQL's own when on PostgreSQL, else in-process. */
export function openEventBus(settings: EventBusSettings, logger: Logger): EventBus {
  if (settings.url) return redisBus({ url: settings.url, prefix: settings.prefix, logger });
  if (settings.postgres)
    return postgresBus({
      connectionString: settings.postgres.url,
      namespace: settings.postgres.schema ?? 'public',
      logger,
    });
  return inProcessBus();
}

/** How the bus is described in the start-up log (no password). */
export function describeEventBus(settings: EventBusSettings): string {
  if (settings.url) return 'Redis pub/sub';
  return settings.postgres ? 'PostgreSQL LISTEN/NOTIFY' : 'in-process';
}
