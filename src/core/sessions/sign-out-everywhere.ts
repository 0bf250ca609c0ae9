import type { AuditLog } from '../audit/audit-log.ts';
import type { EventBus } from '../events/bus.ts';
import type { Account } from '../model.ts';
import type { Store } from '../store.ts';

/** Why every session of an account was ended. */
export type SignOutReason =
  | 'user_request'
  | 'password_changed'
  | 'password_reset'
  | 'signin_reported'
  | 'operator';

export interface SignOutEverywhereOptions {
  reason: SignOutReason;
  /** The portal session that asked and stays signed in (its token hash); none: every one ends. */
  keep?: string | null;
  /** Who did it: the user (null) or an operator's name. */
  actor?: string | null;
  clientAddress?: string | null;
  /** The operator's reason, kept in the audit event. */
  note?: string;
}

export interface SignedOut {
  /** Portal sessions ended. */
  portalSessions: number;
  /** Single sign-on records removed: the provider's sessions, grants, codes, access and refresh tokens. */
  singleSignOn: number;
}

/** The bus topic that hears when all of an account's sessions ended (open pages, streams). */
export const accountTopic = (accountId: string) => `account:${accountId}`;

/**
 * The one way to end every session of an account: its portal sessions (but `keep`), and every
 * single sign-on session, grant, code and access or refresh token the OpenID provider holds for
 * it, in one transaction. Every instance reads sessions from the database on each request, so
 * they all stop at once; the bus tells open streams on every instance. Audited once.
 */
export function signOutEverywhere(deps: { store: Store; audit: AuditLog; events: EventBus }) {
  const { store, audit, events } = deps;
  return async (
    account: Pick<Account, 'id' | 'email'>,
    options: SignOutEverywhereOptions,
  ): Promise<SignedOut> => {
    const ended = await store.transaction(async (tx) => {
      const portalSessions = await tx.sessions.removeAllForAccount(account.id, options.keep ?? undefined);
      const singleSignOn = await tx.oidcModels.removeAllForAccount(account.id);
      await audit.record(
        {
          type: 'session.ended_everywhere',
          email: account.email,
          actor: options.actor ?? null,
          clientAddress: options.clientAddress ?? null,
          detail: {
            reason: options.reason,
            portalSessions,
            singleSignOn,
            keptOwn: Boolean(options.keep),
            ...(options.note ? { operatorReason: options.note } : {}),
          },
        },
        tx,
      );
      return { portalSessions, singleSignOn };
    });
    await events.publish(accountTopic(account.id), { type: 'sessions.ended', id: account.id });
    return ended;
  };
}

export type SignOutEverywhere = ReturnType<typeof signOutEverywhere>;
