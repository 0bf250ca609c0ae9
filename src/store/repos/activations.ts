import type { Kysely, Selectable } from 'kysely';
import type { Activation } from '../../core/model.ts';
import type { ActivationStore } from '../../core/store.ts';
import type { ActivationsTable, Database } from '../schema.ts';
import { fromMillis, toMillis } from './time.ts';

export function activationRepo(db: Kysely<Database>): ActivationStore {
  return {
    async insert(a) {
      await db
        .insertInto('activations')
        .values({
          code_hash: a.codeHash,
          account_id: a.accountId,
          session_hash: a.sessionHash,
          created_at: toMillis(a.createdAt),
          expires_at: toMillis(a.expiresAt),
          device_id: a.deviceId,
          code_sealed: a.codeSealed,
        })
        .execute();
    },
    async find(codeHash) {
      const row = await db
        .selectFrom('activations')
        .selectAll()
        .where('code_hash', '=', codeHash)
        .executeTakeFirst();
      return row ? toActivation(row) : undefined;
    },
    async claim(codeHash, deviceId, now) {
      const result = await db
        .updateTable('activations')
        .set({ device_id: deviceId })
        .where('code_hash', '=', codeHash)
        .where('device_id', 'is', null)
        .where('expires_at', '>', toMillis(now))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async latestForSession(sessionHash) {
      const row = await db
        .selectFrom('activations')
        .selectAll()
        .where('session_hash', '=', sessionHash)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? toActivation(row) : undefined;
    },
  };
}

function toActivation(row: Selectable<ActivationsTable>): Activation {
  return {
    codeHash: row.code_hash,
    accountId: row.account_id,
    sessionHash: row.session_hash,
    createdAt: fromMillis(row.created_at),
    expiresAt: fromMillis(row.expires_at),
    deviceId: row.device_id,
    codeSealed: row.code_sealed,
  };
}
