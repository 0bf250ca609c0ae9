import type { Clock } from './clock.ts';
import type { Store } from './store.ts';

/**
 * Deletes what has expired (sessions, the OpenID provider's records, smartcard tickets, forgotten-password resets). Run periodically by the
 * server; every expiry is also checked when a record is read, so this only keeps tables small.
 */
export function sweepExpired(store: Store, clock: Clock) {
  return async (): Promise<{
    sessions: number;
    oidc: number;
    certificateTickets: number;
    passwordResets: number;
  }> => {
    const now = clock.now();
    const sessions = await store.sessions.removeExpired(now);
    const oidc = await store.oidcModels.removeExpired(now);
    const certificateTickets = await store.certificateTickets.removeExpired(now);
    const passwordResets = await store.passwordResets.removeExpired(now);
    return { sessions, oidc, certificateTickets, passwordResets };
  };
}
