import type { FastifyBaseLogger } from 'fastify';
import type { Core } from '../../core/index.ts';

/** How often the service account's activity is written to the audit log (one row, if any). */
export const SUMMARY_MS = 10 * 60_000;

interface Counts {
  binds: number;
  searches: number;
  entries: number;
  /** Searches refused: too complex, too large, or not naming one entry. */
  refused: number;
  /** Searches refused by the per-minute limit. */
  limited: number;
}

const none = (): Counts => ({ binds: 0, searches: 0, entries: 0, refused: 0, limited: 0 });

/**
 * The service account's binds and searches, summed in memory and written as one
 * `directory.searches` row every few minutes (and when the gateway stops), per client address.
 * A mail server searches once per user login, so one row per search would double the audit
 * log's growth and bury the events people look for; the login itself is audited by the bind that
 * follows (app_password.used). Wrong service secrets and the first refusal of each limit are
 * audited at once, by the core. A crash loses at most one interval of these counts.
 */
export function serviceActivity(core: Core, service: string, log: FastifyBaseLogger) {
  let counts = new Map<string, Counts>();
  let since = core.clock.now();
  const flush = async () => {
    const written = counts;
    const from = since;
    counts = new Map();
    since = core.clock.now();
    for (const [clientAddress, c] of written) {
      await core.audit
        .record({
          type: 'directory.searches',
          actor: service,
          clientAddress,
          detail: { ...c, from: from.toISOString(), to: since.toISOString() },
        })
        .catch((error: unknown) => log.warn({ err: error }, 'LDAP service activity not audited'));
    }
  };
  const timer = setInterval(() => void flush(), SUMMARY_MS);
  timer.unref();
  return {
    note(clientAddress: string, add: Partial<Counts>) {
      const c = counts.get(clientAddress) ?? none();
      for (const [key, value] of Object.entries(add) as [keyof Counts, number][]) c[key] += value;
      counts.set(clientAddress, c);
    },
    async flush() {
      clearInterval(timer);
      await flush();
    },
  };
}
