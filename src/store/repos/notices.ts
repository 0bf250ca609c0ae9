import type { Kysely, Selectable } from 'kysely';
import type { Notice } from '../../core/model.ts';
import type { NoticeStore } from '../../core/store.ts';
import type { Database, NoticesTable } from '../schema.ts';
import { fromMillis, optionalDate, toMillis } from './time.ts';

export function noticeRepo(db: Kysely<Database>): NoticeStore {
  return {
    async insert(n) {
      await db
        .insertInto('notices')
        .values({
          id: n.id,
          email: n.email,
          kind: n.kind,
          facts: JSON.stringify(n.facts),
          created_at: toMillis(n.createdAt),
          next_attempt_at: toMillis(n.nextAttemptAt),
          attempts: n.attempts,
          claimed_until: null,
          sent_at: null,
          last_error: null,
        })
        .execute();
    },
    async claimDue(now, leaseMs, limit) {
      const at = toMillis(now);
      const candidates = await db
        .selectFrom('notices')
        .selectAll()
        .where('sent_at', 'is', null)
        .where('next_attempt_at', '<=', at)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', at)]))
        .orderBy('next_attempt_at')
        .limit(limit)
        .execute();
      const claimed: Notice[] = [];
      for (const row of candidates) {
        const result = await db
          .updateTable('notices')
          .set({ claimed_until: at + leaseMs, attempts: row.attempts + 1 })
          .where('id', '=', row.id)
          .where('sent_at', 'is', null)
          .where('attempts', '=', row.attempts)
          .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', at)]))
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 1)
          claimed.push(toNotice({ ...row, attempts: row.attempts + 1 }));
      }
      return claimed;
    },
    async markSent(id, at) {
      await db
        .updateTable('notices')
        .set({ sent_at: toMillis(at), claimed_until: null, last_error: null })
        .where('id', '=', id)
        .execute();
    },
    async markFailed(id, error, retryAt) {
      await db
        .updateTable('notices')
        .set({ claimed_until: null, next_attempt_at: toMillis(retryAt), last_error: error.slice(0, 500) })
        .where('id', '=', id)
        .where('sent_at', 'is', null)
        .execute();
    },
    async listForEmail(email) {
      const rows = await db
        .selectFrom('notices')
        .selectAll()
        .where('email', '=', email)
        .orderBy('created_at')
        .execute();
      return rows.map(toNotice);
    },
  };
}

function toNotice(row: Selectable<NoticesTable>): Notice {
  return {
    id: row.id,
    email: row.email,
    kind: row.kind as Notice['kind'],
    facts: JSON.parse(row.facts) as Notice['facts'],
    createdAt: fromMillis(row.created_at),
    nextAttemptAt: fromMillis(row.next_attempt_at),
    attempts: Number(row.attempts),
    sentAt: optionalDate(row.sent_at),
    lastError: row.last_error,
  };
}
