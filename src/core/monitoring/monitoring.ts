import type { Clock } from '../clock.ts';
import type { SessionStage } from '../model.ts';
import type { ConnectionUse, Store } from '../store.ts';

/** What monitoring reads when it is asked (a Prometheus scrape), rather than counting as it goes. */
export interface Monitoring {
  /** Sessions not yet expired, by stage: one grouped count over all instances' sessions. */
  activeSessions(): Promise<Partial<Record<SessionStage, number>>>;
  /** This instance's database connection pool (PostgreSQL); undefined on the embedded database. */
  connections(): ConnectionUse | undefined;
}

export function monitoring(store: Store, clock: Clock): Monitoring {
  return {
    activeSessions: () => store.sessions.countActive(clock.now()),
    connections: () => store.connections(),
  };
}
