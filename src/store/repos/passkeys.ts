import { type Kysely, type Selectable, sql } from 'kysely';
import type { PasskeyChallenge, PasskeyCredential } from '../../core/model.ts';
import type { PasskeyStore } from '../../core/store.ts';
import type { Database, PasskeyChallengesTable, PasskeyCredentialsTable } from '../schema.ts';
import { fromMillis, optionalDate, toMillis } from './time.ts';

export function passkeyRepo(db: Kysely<Database>): PasskeyStore {
  return {
    async insertCredential(c) {
      await db
        .insertInto('passkey_credentials')
        .values({
          id: c.id,
          method_id: c.methodId,
          account_id: c.accountId,
          public_key: c.publicKey,
          counter: c.counter,
          transports: JSON.stringify(c.transports),
          created_at: toMillis(c.createdAt),
        })
        .execute();
    },
    async findCredential(id) {
      const row = await db
        .selectFrom('passkey_credentials')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? toCredential(row) : undefined;
    },
    async listCredentials(accountId) {
      const rows = await db
        .selectFrom('passkey_credentials')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .execute();
      return rows.map(toCredential);
    },
    async advanceCounter(id, counter) {
      const result = await db
        .updateTable('passkey_credentials')
        .set({ counter })
        .where('id', '=', id)
        .where((eb) =>
          eb.or([eb('counter', '<', counter), eb.and([eb('counter', '=', 0), eb(sql.lit(counter), '=', 0)])]),
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async insertChallenge(c) {
      await db
        .insertInto('passkey_challenges')
        .values({
          challenge: c.challenge,
          purpose: c.purpose,
          binding_hash: c.bindingHash,
          account_id: c.accountId,
          created_at: toMillis(c.createdAt),
          expires_at: toMillis(c.expiresAt),
          used_at: null,
        })
        .execute();
    },
    async findChallenge(challenge) {
      const row = await db
        .selectFrom('passkey_challenges')
        .selectAll()
        .where('challenge', '=', challenge)
        .executeTakeFirst();
      return row ? toChallenge(row) : undefined;
    },
    async claimChallenge(challenge, bindingHash, purpose, now) {
      const result = await db
        .updateTable('passkey_challenges')
        .set({ used_at: toMillis(now) })
        .where('challenge', '=', challenge)
        .where('binding_hash', '=', bindingHash)
        .where('purpose', '=', purpose)
        .where('used_at', 'is', null)
        .where('expires_at', '>', toMillis(now))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async removeExpiredChallenges(now) {
      const result = await db
        .deleteFrom('passkey_challenges')
        .where('expires_at', '<=', toMillis(now))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toCredential(row: Selectable<PasskeyCredentialsTable>): PasskeyCredential {
  return {
    id: row.id,
    methodId: row.method_id,
    accountId: row.account_id,
    publicKey: row.public_key,
    counter: Number(row.counter),
    transports: JSON.parse(row.transports) as string[],
    createdAt: fromMillis(row.created_at),
  };
}

function toChallenge(row: Selectable<PasskeyChallengesTable>): PasskeyChallenge {
  return {
    challenge: row.challenge,
    purpose: row.purpose as PasskeyChallenge['purpose'],
    bindingHash: row.binding_hash,
    accountId: row.account_id,
    createdAt: fromMillis(row.created_at),
    expiresAt: fromMillis(row.expires_at),
    usedAt: optionalDate(row.used_at),
  };
}
