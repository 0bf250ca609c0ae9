import type { Kysely } from 'kysely';
import type { SigningKeyStore } from '../../core/store.ts';
import type { Database } from '../schema.ts';
import { fromMillis, toMillis } from './time.ts';

export function signingKeyRepo(db: Kysely<Database>): SigningKeyStore {
  return {
    async insert(key) {
      await db
        .insertInto('signing_keys')
        .values({
          kid: key.kid,
          private_jwk_sealed: key.privateJwkSealed,
          created_at: toMillis(key.createdAt),
        })
        .execute();
    },
    async list() {
      const rows = await db
        .selectFrom('signing_keys')
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('kid')
        .execute();
      return rows.map((r) => ({
        kid: r.kid,
        privateJwkSealed: r.private_jwk_sealed,
        createdAt: fromMillis(r.created_at),
      }));
    },
    async remove(kid) {
      await db.deleteFrom('signing_keys').where('kid', '=', kid).execute();
    },
  };
}
