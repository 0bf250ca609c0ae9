import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import type { Account, Session } from '../model.ts';
import type { Store } from '../store.ts';
import { hashSessionToken } from './session-token.ts';
import type { SessionLifetime } from './sign-in.ts';

export interface ActiveSession {
  session: Session;
  account: Account;
}

export interface SessionService {
  /** The live session for a token, extending its idle expiry; undefined when absent or expired. */
  resume(token: string, clientAddress: string): Promise<ActiveSession | undefined>;
  signOut(token: string, clientAddress: string): Promise<void>;
  setFlash(session: Session, message: string): Promise<void>;
  takeFlash(session: Session): Promise<string | null>;
}

/** Touching the session on every request would make every page view a write. */
const TOUCH_INTERVAL_MS = 60_000;

export function sessionService(deps: {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  lifetime: SessionLifetime;
}): SessionService {
  const { store, clock, audit, lifetime } = deps;
  return {
    async resume(token, clientAddress) {
      const idHash = hashSessionToken(token);
      const session = await store.sessions.find(idHash);
      if (!session) return undefined;
      const now = clock.now();
      const account = await store.accounts.findById(session.accountId);
      const ended = !account || account.disabledAt || session.idleExpiresAt <= now;
      if (ended || session.absoluteExpiresAt <= now) {
        await store.sessions.remove(idHash);
        if (account) await audit.record({ type: 'session.expired', email: account.email, clientAddress });
        return undefined;
      }
      if (now.getTime() - session.lastSeenAt.getTime() >= TOUCH_INTERVAL_MS) {
        const idleExpiresAt = new Date(now.getTime() + lifetime.idleMinutes * 60_000);
        await store.sessions.touch(idHash, now, idleExpiresAt);
        session.lastSeenAt = now;
        session.idleExpiresAt = idleExpiresAt;
      }
      return { session, account };
    },

    async signOut(token, clientAddress) {
      const idHash = hashSessionToken(token);
      const session = await store.sessions.find(idHash);
      if (!session) return;
      const account = await store.accounts.findById(session.accountId);
      await store.sessions.remove(idHash);
      await audit.record({ type: 'signout', email: account?.email ?? null, clientAddress });
    },

    setFlash: (session, message) => store.sessions.setFlash(session.idHash, message),
    takeFlash: (session) => store.sessions.takeFlash(session.idHash),
  };
}
