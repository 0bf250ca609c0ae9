import type { Kysely, Selectable } from 'kysely';
import { GatehouseError } from '../../core/errors.ts';
import type { Application } from '../../core/model.ts';
import type { ApplicationStore } from '../../core/store.ts';
import type { Engine } from '../engine.ts';
import type { ApplicationsTable, Database } from '../schema.ts';
import { fromMillis, toMillis } from './time.ts';

export function applicationRepo(db: Kysely<Database>, engine: Engine): ApplicationStore {
  return {
    async insert(a) {
      try {
        await db
          .insertInto('applications')
          .values({
            client_id: a.clientId,
            name: a.name,
            redirect_uris: JSON.stringify(a.redirectUris),
            post_logout_redirect_uris: JSON.stringify(a.postLogoutRedirectUris),
            secret_sealed: a.secretSealed,
            require_mfa: a.requireMfa ? 1 : 0,
            require_phishing_resistant: a.requirePhishingResistant ? 1 : 0,
            launch_url: a.launchUrl,
            created_at: toMillis(a.createdAt),
            secret_rotated_at: a.secretRotatedAt ? toMillis(a.secretRotatedAt) : null,
          })
          .execute();
      } catch (error) {
        if (engine.isUniqueViolation(error)) throw new GatehouseError('application_exists');
        throw error;
      }
    },
    async find(clientId) {
      const row = await db
        .selectFrom('applications')
        .selectAll()
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return row ? toApplication(row) : undefined;
    },
    async list() {
      return (await db.selectFrom('applications').selectAll().orderBy('name').execute()).map(toApplication);
    },
    async remove(clientId) {
      const result = await db.deleteFrom('applications').where('client_id', '=', clientId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async setRequirements(clientId, requirements) {
      const result = await db
        .updateTable('applications')
        .set({
          require_mfa: requirements.requireMfa ? 1 : 0,
          require_phishing_resistant: requirements.requirePhishingResistant ? 1 : 0,
        })
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async replaceSecret(clientId, expected, secretSealed, at) {
      const result = await db
        .updateTable('applications')
        .set({ secret_sealed: secretSealed, secret_rotated_at: toMillis(at) })
        .where('client_id', '=', clientId)
        .where('secret_sealed', '=', expected)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

function toApplication(row: Selectable<ApplicationsTable>): Application {
  return {
    clientId: row.client_id,
    name: row.name,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
    secretSealed: row.secret_sealed,
    requireMfa: row.require_mfa === 1,
    requirePhishingResistant: row.require_phishing_resistant === 1,
    launchUrl: row.launch_url ?? null,
    createdAt: fromMillis(row.created_at),
    secretRotatedAt: row.secret_rotated_at == null ? null : fromMillis(row.secret_rotated_at),
  };
}
