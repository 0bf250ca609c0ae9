import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../engine.ts';

/**
 * The sign-in flow's proofs: a session remembers when it last proved a second factor (Security
 * info asks for a fresh one), and an approved push or a confirmed call is consumed once, by the
 * session it belongs to, when that session is promoted.
 */
export function signInFlow(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('sessions').addColumn('mfa_proved_at', 'bigint').execute();
      await db.schema.alterTable('push_requests').addColumn('consumed_at', 'bigint').execute();
      await db.schema.alterTable('phone_challenges').addColumn('consumed_at', 'bigint').execute();
    },
  };
}
