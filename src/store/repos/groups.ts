import type { Kysely, Selectable } from 'kysely';
import type { Group } from '../../core/model.ts';
import type { GroupStore } from '../../core/store.ts';
import type { Database, GroupsTable } from '../schema.ts';
import { fromMillis, toMillis } from './time.ts';

export function groupRepo(db: Kysely<Database>): GroupStore {
  return {
    async find(name) {
      const row = await db.selectFrom('groups').selectAll().where('name', '=', name).executeTakeFirst();
      return row ? toGroup(row) : undefined;
    },
    async findMany(names) {
      if (names.length === 0) return [];
      const rows = await db
        .selectFrom('groups')
        .selectAll()
        .where('name', 'in', names)
        .orderBy('name')
        .execute();
      return rows.map(toGroup);
    },
    async setMfaExclusion(name, excluded, message) {
      const values = { mfa_excluded: excluded ? 1 : 0, exclusion_message: message };
      await db
        .insertInto('groups')
        .values({ name, ...values })
        .onConflict((oc) => oc.column('name').doUpdateSet(values))
        .execute();
    },
    async setExemptionTerms(name, terms) {
      await db
        .updateTable('groups')
        .set({
          exemption_owner: terms?.owner ?? null,
          exemption_reason: terms?.reason ?? null,
          exemption_review_at: terms ? toMillis(terms.reviewAt) : null,
        })
        .where('name', '=', name)
        .execute();
    },
    async list() {
      const rows = await db.selectFrom('groups').selectAll().orderBy('name').execute();
      return rows.map(toGroup);
    },
  };
}

function toGroup(row: Selectable<GroupsTable>): Group {
  const terms =
    row.exemption_review_at != null
      ? {
          owner: row.exemption_owner ?? '',
          reason: row.exemption_reason ?? '',
          reviewAt: fromMillis(row.exemption_review_at),
        }
      : null;
  return {
    name: row.name,
    mfaExcluded: row.mfa_excluded === 1,
    exclusionMessage: row.exclusion_message,
    ...(terms ? { exemption: terms } : {}),
  };
}
