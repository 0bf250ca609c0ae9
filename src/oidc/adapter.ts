import { type Adapter, type AdapterPayload, errors } from 'oidc-provider';
import type { ApplicationService } from '../core/applications/application-service.ts';
import type { ProviderRecord, SingleSignOnService } from '../core/applications/single-sign-on.ts';

/**
 * oidc-provider's storage, on Gatehouse's own database (SQLite or PostgreSQL) through the core.
 * Clients are not stored here: the `Client` model reads the applications operators register.
 */
export function databaseAdapter(storage: SingleSignOnService, applications: ApplicationService) {
  const asPayload = (record: ProviderRecord | undefined): AdapterPayload | undefined => {
    if (!record) return undefined;
    const payload = record.payload as AdapterPayload;
    return record.consumedAt
      ? { ...payload, consumed: Math.floor(record.consumedAt.getTime() / 1000) }
      : payload;
  };

  return class DatabaseAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      await storage.save(this.model, id, payload, expiresIn);
    }

    async find(id: string) {
      if (this.model === 'Client') return clientMetadata(applications, id);
      return asPayload(await storage.find(this.model, id));
    }

    async findByUid(uid: string) {
      return asPayload(await storage.findByUid(this.model, uid));
    }

    async findByUserCode(userCode: string) {
      return asPayload(await storage.findByUserCode(this.model, userCode));
    }

    /**
     * The provider reads a code, checks it is not consumed, then consumes it: requests that read
     * it at the same moment (on any instance) all pass that check. Only the one whose claim
     * changes the row goes on to get tokens; the others are refused here, as the grant would
     * refuse a code it had seen consumed.
     */
    async consume(id: string) {
      if (!(await storage.claim(this.model, id))) throw new errors.InvalidGrant(`${this.model} already used`);
    }

    async destroy(id: string) {
      await storage.destroy(this.model, id);
    }

    async revokeByGrantId(grantId: string) {
      await storage.revokeGrant(grantId);
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
    require_phishing_resistant: application.requirePhishingResistant,
    ...(secret
      ? { client_secret: secret, token_endpoint_auth_method: 'client_secret_basic' }
      : { token_endpoint_auth_method: 'none' }),
  };
}
