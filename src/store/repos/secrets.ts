import type { Kysely } from 'kysely';
import type { SecretStore } from '../../core/store.ts';
import type { Database } from '../schema.ts';

export function secretRepo(db: Kysely<Database>): SecretStore {
  return {
    async getOrCreate(name, candidate) {
      await db
        .insertInto('secrets')
        .values({ name, value: candidate })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      const row = await db
        .selectFrom('secrets')
        .select('value')
        .where('name', '=', name)
        .executeTakeFirstOrThrow();
      return row.value;
    },
  };
}
