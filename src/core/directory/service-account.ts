import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { Account } from '../model.ts';
import type { Store } from '../store.ts';
import { type ThrottleRule, throttle } from '../throttle/throttle.ts';

/**
 * A directory's read-only service account (a mail server's or VPN's own LDAP login, used to find
 * a user's entry before binding as that user). Its secret is kept only as a SHA-256 digest: it
 * comes from the environment, is long and random, so a fast digest compared in constant time is
 * enough, and the plain text is not kept in memory by the gateway.
 */
export interface ServiceAccount {
  /** Who it is in the audit log and in the limits' keys, e.g. the bind DN. */
  name: string;
  secretDigest: Buffer;
  /** Searches allowed per minute (one atomic count per search, shared by every instance). */
  searchesPerMinute: number;
}

export const secretDigest = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();

export interface DirectoryService {
  /**
   * A bind as the service account: throttled per client address before the secret is compared
   * (as legacy sign-ins are), each failure audited. Throws `invalid_credentials`,
   * `account_locked`, or `client_throttled` when the limit is taken by binds still in flight.
   */
  bindService(service: ServiceAccount, secret: string, clientAddress: string): Promise<void>;
  /**
   * Counts one search against the service account's quota; null when it may go ahead, otherwise
   * when it may be tried again. The first refusal of a lock is audited, not every one.
   */
  countSearch(service: ServiceAccount, clientAddress: string): Promise<Date | null>;
  /** The entries named by the addresses, at most `limit` of them, in the order given. */
  lookup(emails: readonly string[], limit: number): Promise<Account[]>;
}

export function directoryService(ctx: {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  bindFailures: ThrottleRule;
}): DirectoryService {
  const { store, clock, audit } = ctx;
  const binds = throttle(store, clock, ctx.bindFailures);
  const quotas = new Map<number, ReturnType<typeof throttle>>();
  const quota = (perMinute: number) => {
    let found = quotas.get(perMinute);
    if (!found) {
      found = throttle(store, clock, { maxFailures: perMinute, windowMinutes: 1, lockMinutes: 1 });
      quotas.set(perMinute, found);
    }
    return found;
  };
  /** Per service: until when the refusal last audited refused; later refusals within it are not. */
  const auditedUntil = new Map<string, number>();
  return {
    async bindService(service, secret, clientAddress) {
      // Per service and address: a client that guessed wrong locks only its own binds.
      const reservation = await binds.reserve(`directory:service-bind:${service.name}:${clientAddress}`);
      if (!reservation.granted) {
        // Parallel binds beyond the limit are refused unchecked; with no failures counted they
        // are "busy, try again", not a lockout (a mail server opening many connections at once).
        throw new GatehouseError(reservation.locked ? 'account_locked' : 'client_throttled');
      }
      if (timingSafeEqual(secretDigest(secret), service.secretDigest)) return reservation.passed();
      const locked = await reservation.failed();
      await audit.record({
        type: 'directory.service_refused',
        actor: service.name,
        clientAddress,
        detail: { reason: 'wrong_secret', locked: locked !== null },
      });
      throw new GatehouseError(locked ? 'account_locked' : 'invalid_credentials');
    },
    async countSearch(service, clientAddress) {
      const until = await quota(service.searchesPerMinute).consume(`directory:search:${service.name}`);
      if (until && (auditedUntil.get(service.name) ?? 0) <= clock.now().getTime()) {
        auditedUntil.set(service.name, until.getTime());
        await audit.record({
          type: 'directory.search_limited',
          actor: service.name,
          clientAddress,
          detail: { perMinute: service.searchesPerMinute, until: until.toISOString() },
        });
      }
      return until;
    },
    async lookup(emails, limit) {
      const found: Account[] = [];
      for (const email of [...new Set(emails)].slice(0, limit)) {
        const account = await store.accounts.findByEmail(email);
        if (account) found.push(account);
      }
      return found;
    },
  };
}
