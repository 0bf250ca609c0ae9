import type { ApplicationService } from '../applications/application-service.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { MethodManagement } from '../methods/method-management.ts';
import type { Account, ConsoleRole, MfaMethod } from '../model.ts';
import type { SelfEnrolment } from '../policy/self-enrolment.ts';
import type { SignOutEverywhere } from '../sessions/sign-out-everywhere.ts';
import type { Store } from '../store.ts';
import { type ConsoleActor, mustChange, reasonOf } from './actor.ts';
import { applicationConsole } from './applications.ts';
import { auditView } from './audit-view.ts';
import { exemptionRegister } from './exemptions.ts';
import { consoleReports } from './reports.ts';
import type { TemporaryPasses } from './temporary-pass.ts';

/** A search longer than any email address is refused with its own message, before any query. */
export const MAX_SEARCH_LENGTH = 254;
export const SEARCH_PAGE_SIZE = 20;
/** Deeper than this, the operator narrows the search instead (offset paging stays cheap). */
export const MAX_SEARCH_PAGE = 50;

export const CONSOLE_ROLES: readonly ConsoleRole[] = ['operator', 'auditor'];

/** A phone number as the console shows it: the country code and the last two digits only. */
export function maskPhone(label: string): string {
  const [country, ...rest] = label.split(' ');
  const national = rest.join(' ');
  if (!national) return label.replace(/\d(?=(?:\D*\d){2})/g, '•');
  return `${country} ${national.replace(/\d(?=(?:\D*\d){2})/g, '•')}`;
}

export interface ConsoleDeps {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  enrolment: SelfEnrolment;
  management: MethodManagement;
  passes: TemporaryPasses;
  signOutEverywhere: SignOutEverywhere;
  /** Single sign-on applications (part 7): listed, added, removed, their secrets rotated. */
  applications: ApplicationService;
  /** Whether using the console needs a passkey or smartcard sign-in (config passkeys.requirePhishingResistant.console). */
  requirePhishingResistant?: boolean;
}

/**
 * What the operator console (and its command-line twins) do: roles, finding an account and what
 * it has, helping a user who lost their phone, ending sessions, disabling an account. Every
 * change needs an operator (an auditor only reads) and is audited with the operator, the target
 * and the operator's reason.
 */
export function operatorConsole(deps: ConsoleDeps) {
  const { store, clock, audit } = deps;

  async function target(email: string): Promise<Account> {
    const account = await store.accounts.findByEmail(email);
    if (!account) throw new GatehouseError('account_not_found');
    return account;
  }

  /** Portal sessions, single sign-on sessions and refresh tokens, as the user's own sign out everywhere. */
  const endEverySession = (account: Account, actor: ConsoleActor, why: string) =>
    deps.signOutEverywhere(account, { reason: 'operator', actor: actor.name, note: why });

  return {
    /** The exemption register (groups and accounts exempt from MFA, with owner, reason, review date). */
    exemptions: exemptionRegister({ store, clock, audit }),

    /** The audit log, filtered and paged, and its CSV export (auditors read it too). */
    auditView: auditView({ store, audit }),

    /** Registration and sign-in activity reports (SQL aggregates), with their lists and exports. */
    reports: consoleReports({ store, clock, audit }),
    /** Single sign-on applications: list, add, remove, rotate the secret (shown once). */
    applications: applicationConsole(deps.applications),

    /** Whether the console is only for sessions that signed in with a passkey or a smartcard. */
    requiresPhishingResistant: deps.requirePhishingResistant === true,

    /** The account's console role, if any (none: the console does not exist for them). */
    roleOf: (account: Pick<Account, 'id'>) => store.roles.find(account.id),

    async grant(actor: ConsoleActor, email: string, role: ConsoleRole): Promise<void> {
      mustChange(actor);
      if (!CONSOLE_ROLES.includes(role))
        throw new GatehouseError('invalid_input', 'role must be operator or auditor');
      const account = await target(email);
      await store.transaction(async (tx) => {
        await tx.roles.set(account.id, role, clock.now(), actor.name);
        await audit.record({ type: 'role.granted', email, actor: actor.name, detail: { role } }, tx);
      });
    },

    async revoke(actor: ConsoleActor, email: string): Promise<boolean> {
      mustChange(actor);
      const account = await target(email);
      return store.transaction(async (tx) => {
        const role = await tx.roles.find(account.id);
        if (!(await tx.roles.remove(account.id))) return false;
        await audit.record({ type: 'role.revoked', email, actor: actor.name, detail: { role } }, tx);
        return true;
      });
    },

    /** Accounts by email or name prefix, a page at a time (page 1 first). */
    async search(query: string, page = 1): Promise<{ accounts: Account[]; more: boolean }> {
      if (query.length > MAX_SEARCH_LENGTH) throw new GatehouseError('search_too_long');
      const prefix = query.trim().toLowerCase();
      if (prefix.length === 0) return { accounts: [], more: false };
      if (!Number.isInteger(page) || page < 1 || page > MAX_SEARCH_PAGE)
        throw new GatehouseError('invalid_input');
      const found = await store.accounts.search(prefix, SEARCH_PAGE_SIZE + 1, (page - 1) * SEARCH_PAGE_SIZE);
      return { accounts: found.slice(0, SEARCH_PAGE_SIZE), more: found.length > SEARCH_PAGE_SIZE };
    },

    /** Everything the account page shows; the view itself is audited (who looked at whom). */
    async overview(actor: ConsoleActor, email: string) {
      const account = await target(email);
      const now = clock.now();
      const [eligibility, methods, appPasswords, smartcards, sessions, events, pass, role] =
        await Promise.all([
          deps.enrolment.eligibility(account),
          store.methods.listForAccount(account.id),
          store.appPasswords.listForAccount(account.id),
          store.certificateBindings.listForAccount(account.id),
          store.sessions.listForAccount(account.id),
          store.audit.list({ email: account.email, limit: 50 }),
          deps.passes.current(account.id),
          store.roles.find(account.id),
        ]);
      await audit.record({ type: 'console.account_viewed', email, actor: actor.name });
      return {
        account,
        role,
        eligibility,
        methods: methods.filter((m) => m.status === 'active' || m.status === 'suspended').map(describeMethod),
        appPasswords,
        smartcards,
        sessions: sessions.filter((s) => s.idleExpiresAt > now && s.absoluteExpiresAt > now),
        events,
        pass: pass && pass.expiresAt > now && !(pass.oneTime && pass.uses > 0) ? pass : undefined,
      };
    },

    async resetMfa(actor: ConsoleActor, email: string, reason: string | undefined): Promise<void> {
      mustChange(actor);
      const why = reasonOf(reason);
      const account = await target(email);
      await deps.management.resetMfa(account, actor.name, why);
    },

    issuePass: async (
      actor: ConsoleActor,
      email: string,
      options: { lifetimeMinutes: number; oneTime: boolean; reason: string | undefined },
    ) => {
      mustChange(actor);
      return deps.passes.issue(actor, await target(email), options);
    },

    revokePass: async (actor: ConsoleActor, email: string, reason: string | undefined) => {
      mustChange(actor);
      return deps.passes.revoke(actor, await target(email), reason);
    },

    async endSessions(actor: ConsoleActor, email: string, reason: string | undefined): Promise<number> {
      mustChange(actor);
      const why = reasonOf(reason);
      return (await endEverySession(await target(email), actor, why)).portalSessions;
    },

    /** A disabled account signs in nowhere (portal, smartcard, LDAP, RADIUS); its sessions end now. */
    async setDisabled(actor: ConsoleActor, email: string, disabled: boolean, reason: string | undefined) {
      mustChange(actor);
      const why = reasonOf(reason);
      const account = await target(email);
      const changed = await store.transaction(async (tx) => {
        if (!(await tx.accounts.setDisabled(account.id, disabled ? clock.now() : null))) return false;
        await audit.record(
          {
            type: disabled ? 'account.disabled' : 'account.enabled',
            email,
            actor: actor.name,
            detail: { reason: why },
          },
          tx,
        );
        return true;
      });
      if (changed && disabled) await endEverySession(account, actor, why);
      return changed;
    },
  };
}

function describeMethod(m: MfaMethod) {
  return {
    id: m.id,
    kind: m.kind,
    /** The device's name, or the phone number masked. */
    label: m.kind === 'phone' ? maskPhone(m.label) : m.label,
    isDefault: m.isDefault,
    /** Suspended: it no longer signs in (a passkey that may have been copied). */
    suspended: m.status === 'suspended',
    createdAt: m.createdAt,
    lastUsedAt: m.lastUsedAt,
  };
}

export type OperatorConsole = ReturnType<typeof operatorConsole>;
