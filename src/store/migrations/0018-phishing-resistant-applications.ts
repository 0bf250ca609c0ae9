import type { Kysely, Migration } from 'kysely';

/**
 * Applications an operator holds to a phishing-resistant sign-in (a passkey or a smartcard), as
 * groups already can be (issue 15). Existing applications keep what they had: not required.
 */
export function phishingResistantApplications(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('applications')
        .addColumn('require_phishing_resistant', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  };
}
