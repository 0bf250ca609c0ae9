import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../engine.ts';

/**
 * Where the portal's front page sends a user who selects an application: the application's own
 * start of sign-in (its OpenID Connect initiate_login_uri). Null: the origin of its first
 * redirect URI.
 */
export function applicationLaunchUrl(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('applications').addColumn('launch_url', 'text').execute();
    },
  };
}
