import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { ApplicationService } from '../core/applications/application-service.ts';
import type { Clock } from '../core/clock.ts';
import type { OidcModel, Store } from '../core/store.ts';

/**
 * oidc-provider's storage, on Gatehouse's own database (SQLite or PostgreSQL) through the Store.
 * Clients are not stored here: the `Client` model reads the applications operators register.
 */
export function databaseAdapter(store: Store, clock: Clock, applications: ApplicationService) {
  const live = (record: OidcModel | undefined): AdapterPayload | undefined => {
    if (!record || (record.expiresAt && record.expiresAt <= clock.now())) return undefined;
    const payload = record.payload as AdapterPayload;
    return record.consumedAt
      ? { ...payload, consumed: Math.floor(record.consumedAt.getTime() / 1000) }
      : payload;
  };

  return class DatabaseAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      await store.oidcModels.upsert(this.model, id, {
        payload,
        grantId: payload.grantId,
        userCode: payload.userCode,
        uid: payload.uid,
        expiresAt: expiresIn ? new Date(clock.now().getTime() + expiresIn * 1000) : null,
      });
    }

    async find(id: string) {
      if (this.model === 'Client') return clientMetadata(applications, id);
      return live(await store.oidcModels.find(this.model, id));
    }

    async findByUid(uid: string) {
      return live((await store.oidcModels.findByUid(this.model, uid))?.record);
    }

    async findByUserCode(userCode: string) {
      return live((await store.oidcModels.findByUserCode(this.model, userCode))?.record);
    }

    async consume(id: string) {
      await store.oidcModels.consume(this.model, id, clock.now());
    }

    async destroy(id: string) {
      await store.oidcModels.destroy(this.model, id);
    }

    async revokeByGrantId(grantId: string) {
      await store.oidcModels.revokeByGrantId(grantId);
    }
  };
}

/** A registered application as OpenID Connect client metadata (RFC 7591 names). */
async function clientMetadata(
  applications: ApplicationService,
  clientId: string,
): Promise<AdapterPayload | undefined> {
  const application = await applications.find(clientId);
  if (!application) return undefined;
  const secret = applications.secretOf(application);
  return {
    client_id: application.clientId,
    client_name: application.name,
    redirect_uris: application.redirectUris,
    post_logout_redirect_uris: application.postLogoutRedirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    require_mfa: application.requireMfa,
    ...(secret
      ? { client_secret: secret, token_endpoint_auth_method: 'client_secret_basic' }
      : { token_endpoint_auth_method: 'none' }),
  };
}
