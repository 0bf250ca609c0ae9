import type { Kysely, Selectable } from 'kysely';
import type { PhoneChallenge, PhoneChallengeStatus, PhoneChannel } from '../../core/model.ts';
import type { PhoneChallengeStore } from '../../core/store.ts';
import type { Database, PhoneChallengesTable } from '../schema.ts';
import { fromMillis, optionalDate, toMillis } from './time.ts';

export function phoneChallengeRepo(db: Kysely<Database>): PhoneChallengeStore {
  return {
    async insert(c) {
      await db
        .insertInto('phone_challenges')
        .values({
          id: c.id,
          account_id: c.accountId,
          method_id: c.methodId,
          purpose: c.purpose,
          channel: c.channel,
          code_hash: c.codeHash,
          status: c.status,
          session_hash: c.sessionHash,
          created_at: toMillis(c.createdAt),
          expires_at: toMillis(c.expiresAt),
          settled_at: null,
        })
        .execute();
    },
    async find(id) {
      const row = await db.selectFrom('phone_challenges').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toChallenge(row) : undefined;
    },
    async latestForSession(sessionHash, purpose) {
      const row = await db
        .selectFrom('phone_challenges')
        .selectAll()
        .where('session_hash', '=', sessionHash)
        .where('purpose', '=', purpose)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? toChallenge(row) : undefined;
    },
    async consume(id, sessionHash, at) {
      const result = await db
        .updateTable('phone_challenges')
        .set({ consumed_at: toMillis(at) })
        .where('id', '=', id)
        .where('session_hash', '=', sessionHash)
        .where('status', '=', 'confirmed')
        .where('consumed_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async settle(id, status, at) {
      const result = await db
        .updateTable('phone_challenges')
        .set({ status, settled_at: toMillis(at) })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

function toChallenge(row: Selectable<PhoneChallengesTable>): PhoneChallenge {
  return {
    id: row.id,
    accountId: row.account_id,
    methodId: row.method_id,
    purpose: row.purpose as PhoneChallenge['purpose'],
    channel: row.channel as PhoneChannel,
    codeHash: row.code_hash,
    status: row.status as PhoneChallengeStatus,
    sessionHash: row.session_hash,
    createdAt: fromMillis(row.created_at),
    expiresAt: fromMillis(row.expires_at),
    settledAt: optionalDate(row.settled_at),
  };
}
