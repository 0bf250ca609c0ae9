import { type Kysely, type Migration, sql } from 'kysely';
import type { Engine } from '../engine.ts';

/**
 * Applications in the operator console (issue 13, part 7): when an application's secret was last
 * rotated, and the application each OpenID provider record was issued to (so that removing an
 * application ends its grants, codes and tokens). Records saved before this migration get theirs
 * from the payload's clientId.
 */
export function applicationConsole(engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('applications').addColumn('secret_rotated_at', 'bigint').execute();
      await db.schema.alterTable('oidc_models').addColumn('client_id', 'text').execute();
      const clientId =
        engine.name === 'postgres'
          ? sql`(payload::json ->> 'clientId')`
          : sql`json_extract(payload, '$.clientId')`;
      await sql`update oidc_models set client_id = ${clientId} where client_id is null`.execute(db);
      await db.schema.createIndex('oidc_models_client').on('oidc_models').column('client_id').execute();
    },
  };
}
