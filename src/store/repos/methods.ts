import type { Kysely } from 'kysely';
import type { MethodStore } from '../../core/store.ts';
import type { Database } from '../schema.ts';

export function methodRepo(db: Kysely<Database>): MethodStore {
  return {
    async countForAccount(accountId) {
      const row = await db
        .selectFrom('mfa_methods')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('account_id', '=', accountId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };
}
