import type { Clock } from '../clock.ts';
import type { Account } from '../model.ts';
import type { Store } from '../store.ts';

/** One record of the OpenID provider (a session, code, token, grant, interaction), while it lives. */
export interface ProviderRecord {
  payload: Record<string, unknown>;
  /** When a one-time record (an authorization code, a rotated refresh token) was claimed. */
  consumedAt: Date | undefined;
}

/**
 * What single sign-on needs from the core: the provider's records, kept in Gatehouse's own
 * database and expiring on the core's clock, and the few facts about accounts it asks for.
 */
export interface SingleSignOnService {
  /** Saves a record; `grantId`, `userCode` and `uid` in the payload are what it is looked up by. */
  save(model: string, id: string, payload: Record<string, unknown>, expiresInSeconds: number): Promise<void>;
  find(model: string, id: string): Promise<ProviderRecord | undefined>;
  findByUid(model: string, uid: string): Promise<ProviderRecord | undefined>;
  findByUserCode(model: string, userCode: string): Promise<ProviderRecord | undefined>;
  /** Claims a one-time record; true for one caller only, however many ask at once on any instance. */
  claim(model: string, id: string): Promise<boolean>;
  destroy(model: string, id: string): Promise<void>;
  /** Removes everything issued under a grant (its codes, tokens and the grant itself). */
  revokeGrant(grantId: string): Promise<void>;
  account(accountId: string): Promise<Account | undefined>;
  /** True when the account has a method that can prove a second factor (so it can step up). */
  canProveSecondFactor(accountId: string): Promise<boolean>;
  /**
   * Notes when a sign-in interaction started, on the core's clock: only a portal sign-in after it
   * answers a request that demands a new one (prompt=login, max_age=0).
   */
  recordInteractionStart(uid: string, ttlSeconds: number): Promise<void>;
  interactionStartedAt(uid: string): Promise<Date | undefined>;
}

/** Not a model of the provider's own: the start of an interaction, kept beside it. */
const INTERACTION_START = 'GatehouseInteractionStart';

/**
 * What is issued under a grant and goes when it is revoked. An Interaction or a Session names a
 * grant too, but revoking the grant (signing out of one account to sign in as another) must not
 * remove the interaction the user is in the middle of.
 */
const ISSUED_UNDER_GRANT = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

export function singleSignOnService(deps: { store: Store; clock: Clock }): SingleSignOnService {
  const { store, clock } = deps;
  const live = (
    record:
      | { payload: Record<string, unknown>; expiresAt: Date | null; consumedAt?: Date | null }
      | undefined,
  ) =>
    !record || (record.expiresAt && record.expiresAt <= clock.now())
      ? undefined
      : { payload: record.payload, consumedAt: record.consumedAt ?? undefined };
  const expiry = (seconds: number) => (seconds ? new Date(clock.now().getTime() + seconds * 1000) : null);

  return {
    async save(model, id, payload, expiresInSeconds) {
      await store.oidcModels.upsert(model, id, {
        payload,
        grantId: ISSUED_UNDER_GRANT.has(model) ? text(payload.grantId) : undefined,
        userCode: text(payload.userCode),
        uid: text(payload.uid),
        expiresAt: expiry(expiresInSeconds),
        accountId: text(payload.accountId),
        clientId: text(payload.clientId),
      });
    },
    find: async (model, id) => live(await store.oidcModels.find(model, id)),
    findByUid: async (model, uid) => live((await store.oidcModels.findByUid(model, uid))?.record),
    findByUserCode: async (model, userCode) =>
      live((await store.oidcModels.findByUserCode(model, userCode))?.record),
    claim: (model, id) => store.oidcModels.consume(model, id, clock.now()),
    destroy: (model, id) => store.oidcModels.destroy(model, id),
    revokeGrant: (grantId) => store.oidcModels.revokeByGrantId(grantId),
    account: (accountId) => store.accounts.findById(accountId),
    canProveSecondFactor: async (accountId) => (await store.methods.countForAccount(accountId)) > 0,

    async recordInteractionStart(uid, ttlSeconds) {
      await store.oidcModels.upsert(INTERACTION_START, uid, {
        payload: { startedAt: clock.now().getTime() },
        expiresAt: expiry(ttlSeconds),
      });
    },
    async interactionStartedAt(uid) {
      const startedAt = live(await store.oidcModels.find(INTERACTION_START, uid))?.payload.startedAt;
      return typeof startedAt === 'number' ? new Date(startedAt) : undefined;
    },
  };
}
