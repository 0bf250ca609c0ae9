import { type Kysely, sql } from 'kysely';
import type { Store } from '../core/store.ts';
import type { Engine } from './engine.ts';
import { accountRepo } from './repos/accounts.ts';
import { activationRepo } from './repos/activations.ts';
import { appPasswordRepo } from './repos/app-passwords.ts';
import { applicationRepo } from './repos/applications.ts';
import { auditRepo } from './repos/audit.ts';
import { certificateBindingRepo, certificateTicketRepo } from './repos/certificates.ts';
import { exemptionRepo, roleRepo, temporaryPassRepo } from './repos/console.ts';
import { groupRepo } from './repos/groups.ts';
import { methodRepo } from './repos/methods.ts';
import { noticeRepo } from './repos/notices.ts';
import { oidcModelRepo } from './repos/oidc-models.ts';
import { passkeyRepo } from './repos/passkeys.ts';
import { nudgeRepo, passwordResetRepo } from './repos/password-resets.ts';
import { phoneChallengeRepo } from './repos/phone-challenges.ts';
import { pushRequestRepo } from './repos/push-requests.ts';
import { reportRepo } from './repos/reports.ts';
import { secretRepo } from './repos/secrets.ts';
import { sessionRepo } from './repos/sessions.ts';
import { signingKeyRepo } from './repos/signing-keys.ts';
import { throttleRepo } from './repos/throttle.ts';
import type { Database } from './schema.ts';

/** The single Store implementation; `db` is the engine's connection or an open transaction. */
export function kyselyStore(engine: Engine, db: Kysely<Database> = engine.db): Store {
  return {
    accounts: accountRepo(db, engine),
    groups: groupRepo(db),
    sessions: sessionRepo(db),
    throttle: throttleRepo(db),
    audit: auditRepo(db, engine),
    methods: methodRepo(db),
    secrets: secretRepo(db),
    activations: activationRepo(db),
    pushRequests: pushRequestRepo(db, engine),
    appPasswords: appPasswordRepo(db, engine),
    applications: applicationRepo(db, engine),
    oidcModels: oidcModelRepo(db),
    signingKeys: signingKeyRepo(db),
    phoneChallenges: phoneChallengeRepo(db),
    certificateBindings: certificateBindingRepo(db, engine),
    certificateTickets: certificateTicketRepo(db),
    notices: noticeRepo(db),
    passwordResets: passwordResetRepo(db),
    nudges: nudgeRepo(db),
    roles: roleRepo(db),
    temporaryPasses: temporaryPassRepo(db),
    exemptions: exemptionRepo(db),
    reports: reportRepo(db, engine),
    passkeys: passkeyRepo(db),
    async transaction(work) {
      if (db.isTransaction) return work(this);
      return db.transaction().execute((trx) => work(kyselyStore(engine, trx)));
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    connections: () => engine.connections(),
    close: () => engine.destroy(),
  };
}
