import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { AuditEventType } from '../model.ts';
import { type SignInMethod, type SignInOutcome, signInStepOf } from '../monitoring/sign-in-outcomes.ts';
import type { GroupRegistration, RegistrationCategory, ReportAccount, Store } from '../store.ts';
import type { ConsoleActor } from './actor.ts';
import { csvLine, csvPages } from './csv.ts';
import { checkedRange, DAY_MS, typedTime } from './time-range.ts';

/** The registration report's categories, in the order the report shows them. */
/** What the registration report counts (the store's type, named here for the web and the CLI). */
export type { RegistrationCategory };

export const REGISTRATION_CATEGORIES: readonly RegistrationCategory[] = [
  'all',
  'mfa_enabled',
  'mfa_not_enabled',
  'method:authenticator_app',
  'method:totp',
  'method:phone',
  'method:smartcard',
  'method:passkey',
  'none',
  'exempt',
  'shared_mailbox',
];

export const REPORT_PAGE_SIZE = 50;
const EXPORT_BATCH = 1000;
const MAX_GROUP_LENGTH = 200;
/** The sign-in activity report covers at most this many days (30 when none are given). */
export const ACTIVITY_MAX_DAYS = 92;
const ACTIVITY_DEFAULT_DAYS = 30;

/** Audit events that are sign-in steps (each counted by signInStepOf's method and outcome). */
const STEP_TYPES: readonly AuditEventType[] = [
  'signin.succeeded',
  'signin.failed',
  'signin.locked',
  'mfa.verified',
  'push.denied',
  'push.wrong_number',
  'push.reported',
  'totp.rejected',
  'phone.failed',
  'phone.reported',
  'smartcard.signed_in',
  'smartcard.refused',
  'passkey.refused',
  'legacy.signed_in',
  'app_password.used',
  'app_password.rejected',
  'legacy.password_refused',
];
/** Someone said a sign-in or a request was not them: from the app, the phone, or My sign-ins. */
export const SUSPICIOUS_TYPES: readonly AuditEventType[] = [
  'push.reported',
  'phone.reported',
  'signin.reported',
];

export interface SignInActivity {
  from: Date;
  to: Date;
  /** One row per day, method and outcome that happened, days in order. */
  steps: { day: string; method: SignInMethod; outcome: SignInOutcome; count: number }[];
  /** Accounts locked after too many wrong passwords, per day (signin.locked). */
  lockouts: { day: string; count: number }[];
  /** Suspicious-activity reports per day, by where they came from. */
  reports: { day: string; type: AuditEventType; count: number }[];
}

/** A category by name; none given is every account. */
function categoryOf(value: string | undefined): RegistrationCategory {
  if (value === undefined || value === '') return 'all';
  if ((REGISTRATION_CATEGORIES as readonly string[]).includes(value)) return value as RegistrationCategory;
  throw new GatehouseError('console_filter_invalid', 'not a category', { field: 'category' });
}

function groupOf(value: string | undefined): string | undefined {
  const group = (value ?? '').trim();
  if (group.length > MAX_GROUP_LENGTH)
    throw new GatehouseError('console_filter_invalid', 'the group name is too long', { field: 'group' });
  return group === '' ? undefined : group;
}

function afterOf(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length > 254) throw new GatehouseError('console_filter_invalid', 'not a page', { field: 'page' });
  return value;
}

/**
 * The console's reports, computed by SQL aggregates (never by loading every account): who has
 * registered what, and how people have been signing in, from the audit log.
 */
export function consoleReports(deps: { store: Store; clock: Clock; audit: AuditLog }) {
  const { store, clock, audit } = deps;

  async function* accountBatches(category: RegistrationCategory, group: string | undefined, now: Date) {
    let afterEmail: string | undefined;
    for (;;) {
      const page = await store.reports.listRegistration(category, now, {
        group,
        afterEmail,
        limit: EXPORT_BATCH,
      });
      if (page.length > 0) yield page;
      if (page.length < EXPORT_BATCH) return;
      afterEmail = page.at(-1)?.email;
    }
  }

  return {
    /** How many accounts are in each category now (of one group, when given). */
    async registration(input: { group?: string | undefined } = {}) {
      const group = groupOf(input.group);
      const at = clock.now();
      const counts = await store.reports.countRegistration(REGISTRATION_CATEGORIES, at, group);
      return { at, group, counts };
    },

    /** The accounts behind one number, a page at a time in email order (after: the last seen). */
    async registrationList(input: {
      category: string | undefined;
      group?: string | undefined;
      after?: string | undefined;
    }): Promise<{
      category: RegistrationCategory;
      group: string | undefined;
      accounts: ReportAccount[];
      next: string | undefined;
    }> {
      const category = categoryOf(input.category);
      const group = groupOf(input.group);
      const afterEmail = afterOf(input.after);
      const found = await store.reports.listRegistration(category, clock.now(), {
        group,
        afterEmail,
        limit: REPORT_PAGE_SIZE + 1,
      });
      const accounts = found.slice(0, REPORT_PAGE_SIZE);
      return {
        category,
        group,
        accounts,
        next: found.length > REPORT_PAGE_SIZE ? accounts.at(-1)?.email : undefined,
      };
    },

    /** Groups in name order, a page at a time, each with its members' numbers. */
    async groups(
      input: { after?: string | undefined } = {},
    ): Promise<{ groups: GroupRegistration[]; next: string | undefined }> {
      const found = await store.reports.groupRegistration(
        clock.now(),
        groupOf(input.after),
        REPORT_PAGE_SIZE + 1,
      );
      const groups = found.slice(0, REPORT_PAGE_SIZE);
      return { groups, next: found.length > REPORT_PAGE_SIZE ? groups.at(-1)?.group : undefined };
    },

    /** The accounts behind one number as CSV, a batch at a time; the export is audited first. */
    async exportRegistration(
      actor: ConsoleActor,
      input: { category: string | undefined; group?: string | undefined },
    ): Promise<AsyncGenerator<string>> {
      const category = categoryOf(input.category);
      const group = groupOf(input.group);
      await audit.record({
        type: 'console.exported',
        actor: actor.name,
        detail: { what: 'registration', category, ...(group ? { group } : {}) },
      });
      return csvPages(
        ['email', 'name', 'mfa_enabled', 'disabled'],
        accountBatches(category, group, clock.now()),
        (a) => [a.email, a.displayName, a.mfaEnabled ? 'yes' : 'no', a.disabled ? 'yes' : 'no'],
      );
    },

    /**
     * Sign-ins per day by method and outcome, lockouts and suspicious-activity reports, in
     * [from, to) (typed as days or times; the last 30 days when neither is given).
     */
    async signInActivity(
      input: { from?: string | undefined; to?: string | undefined } = {},
    ): Promise<SignInActivity> {
      const typedTo = typedTime(input.to, 'to', true);
      const typedFrom = typedTime(input.from, 'from', false);
      const to = typedTo ?? new Date(Math.floor(clock.now().getTime() / DAY_MS + 1) * DAY_MS);
      const from = typedFrom ?? new Date(to.getTime() - ACTIVITY_DEFAULT_DAYS * DAY_MS);
      checkedRange(from, to, ACTIVITY_MAX_DAYS);
      const rows = await store.audit.countByDay({ from, to, types: [...STEP_TYPES, 'signin.reported'] });
      const steps = new Map<string, SignInActivity['steps'][number]>();
      const lockouts = new Map<string, number>();
      const reports = new Map<string, SignInActivity['reports'][number]>();
      for (const row of rows) {
        if (row.type === 'signin.locked') lockouts.set(row.day, (lockouts.get(row.day) ?? 0) + row.count);
        if (SUSPICIOUS_TYPES.includes(row.type)) {
          const key = `${row.day} ${row.type}`;
          const had = reports.get(key);
          if (had) had.count += row.count;
          else reports.set(key, { day: row.day, type: row.type, count: row.count });
        }
        const step = signInStepOf({ type: row.type, detail: row.detail });
        if (!step) continue;
        const key = `${row.day} ${step.method} ${step.outcome}`;
        const had = steps.get(key);
        if (had) had.count += row.count;
        else steps.set(key, { day: row.day, ...step, count: row.count });
      }
      const byDay = <T extends { day: string }>(list: T[]) => list.sort((a, b) => a.day.localeCompare(b.day));
      return {
        from,
        to,
        steps: byDay([...steps.values()]),
        lockouts: byDay([...lockouts].map(([day, count]) => ({ day, count }))),
        reports: byDay([...reports.values()]),
      };
    },
  };
}

/** The sign-in activity as CSV: one row per day, method and outcome, then lockouts and reports. */
export function activityCsv(activity: SignInActivity): string {
  let text = csvLine(['day', 'what', 'method', 'outcome', 'count']);
  for (const s of activity.steps) text += csvLine([s.day, 'sign-in', s.method, s.outcome, s.count]);
  for (const l of activity.lockouts) text += csvLine([l.day, 'lockout', 'password', 'locked', l.count]);
  for (const r of activity.reports) text += csvLine([r.day, 'report', r.type, 'reported', r.count]);
  return text;
}

export type ConsoleReports = ReturnType<typeof consoleReports>;
