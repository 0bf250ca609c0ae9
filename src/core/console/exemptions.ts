import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { ExemptionTerms } from '../model.ts';
import type { Store } from '../store.ts';
import { type ConsoleActor, mustChange, reasonOf } from './actor.ts';

/** Exemptions due for review within this many days are listed first. */
export const DUE_DAYS = 30;
const MAX_AHEAD_DAYS = 2 * 366;
const DAY_MS = 86_400_000;

export interface RegisterEntry {
  kind: 'group' | 'account';
  /** The group's name or the account's email. */
  name: string;
  owner: string | null;
  reason: string | null;
  reviewAt: Date | null;
  /** lapsed: past its review date, it no longer counts; due: within 30 days; none: no terms recorded. */
  status: 'lapsed' | 'due' | 'current' | 'none';
}

/** The terms an operator gives, checked: an owner, a reason, a review date in the future. */
function termsOf(
  input: { owner: string | undefined; reason: string | undefined; reviewAt: Date },
  now: Date,
): ExemptionTerms {
  const owner = (input.owner ?? '').trim();
  if (owner.length === 0 || owner.length > 200) throw new GatehouseError('exemption_owner_required');
  const reason = reasonOf(input.reason);
  const at = input.reviewAt.getTime();
  if (Number.isNaN(at) || at <= now.getTime() || at > now.getTime() + MAX_AHEAD_DAYS * DAY_MS)
    throw new GatehouseError('review_date_past');
  return { owner, reason, reviewAt: input.reviewAt };
}

/**
 * The exemption register: groups excluded from MFA and accounts exempt on their own, each with an
 * owner, a reason and a review date. Past the date an exemption stops counting (see
 * mfa-eligibility.ts) and the user is asked to enrol at their next sign-in.
 */
export function exemptionRegister(deps: { store: Store; clock: Clock; audit: AuditLog }) {
  const { store, clock, audit } = deps;

  return {
    async exemptGroup(
      actor: ConsoleActor,
      group: string,
      input: { message: string; owner: string | undefined; reason: string | undefined; reviewAt: Date },
    ) {
      mustChange(actor);
      const terms = termsOf(input, clock.now());
      const message = input.message.trim();
      if (message.length === 0 || message.length > 1000) throw new GatehouseError('invalid_input');
      await store.transaction(async (tx) => {
        await tx.groups.setMfaExclusion(group, true, message);
        await tx.groups.setExemptionTerms(group, terms);
        await audit.record(
          {
            type: 'group.mfa_excluded',
            actor: actor.name,
            detail: {
              group,
              message,
              owner: terms.owner,
              reason: terms.reason,
              reviewAt: terms.reviewAt.toISOString(),
            },
          },
          tx,
        );
      });
    },

    async exemptAccount(
      actor: ConsoleActor,
      email: string,
      input: { owner: string | undefined; reason: string | undefined; reviewAt: Date },
    ) {
      mustChange(actor);
      const terms = termsOf(input, clock.now());
      const account = await store.accounts.findByEmail(email);
      if (!account) throw new GatehouseError('account_not_found');
      await store.transaction(async (tx) => {
        await tx.exemptions.set({
          ...terms,
          accountId: account.id,
          createdAt: clock.now(),
          createdBy: actor.name,
        });
        await audit.record(
          {
            type: 'exemption.set',
            email,
            actor: actor.name,
            detail: { owner: terms.owner, reason: terms.reason, reviewAt: terms.reviewAt.toISOString() },
          },
          tx,
        );
      });
    },

    async removeAccountExemption(actor: ConsoleActor, email: string, reason: string | undefined) {
      mustChange(actor);
      const why = reasonOf(reason);
      const account = await store.accounts.findByEmail(email);
      if (!account) throw new GatehouseError('account_not_found');
      const removed = await store.exemptions.remove(account.id);
      if (removed)
        await audit.record({ type: 'exemption.removed', email, actor: actor.name, detail: { reason: why } });
      return removed;
    },

    /** Every exemption: those lapsed or due within 30 days first (soonest first), then the rest. */
    async list(): Promise<RegisterEntry[]> {
      const now = clock.now().getTime();
      const statusOf = (reviewAt: Date | null): RegisterEntry['status'] =>
        reviewAt === null
          ? 'none'
          : reviewAt.getTime() <= now
            ? 'lapsed'
            : reviewAt.getTime() <= now + DUE_DAYS * DAY_MS
              ? 'due'
              : 'current';
      const groups = (await store.groups.list()).filter((g) => g.mfaExcluded);
      const entries: RegisterEntry[] = [
        ...groups.map((g) => ({
          kind: 'group' as const,
          name: g.name,
          owner: g.exemption?.owner ?? null,
          reason: g.exemption?.reason ?? null,
          reviewAt: g.exemption?.reviewAt ?? null,
          status: statusOf(g.exemption?.reviewAt ?? null),
        })),
        ...(await store.exemptions.list()).map((e) => ({
          kind: 'account' as const,
          name: e.email,
          owner: e.owner,
          reason: e.reason,
          reviewAt: e.reviewAt,
          status: statusOf(e.reviewAt),
        })),
      ];
      const rank = { lapsed: 0, due: 0, none: 1, current: 2 };
      return entries.sort(
        (a, b) =>
          rank[a.status] - rank[b.status] ||
          (a.reviewAt?.getTime() ?? 0) - (b.reviewAt?.getTime() ?? 0) ||
          a.name.localeCompare(b.name),
      );
    },
  };
}

/** The register as CSV (RFC 4180: every field quoted, quotes doubled; a leading =+-@ defused). */
export function registerCsv(entries: readonly RegisterEntry[]): string {
  const field = (value: string) =>
    `"${(/^[=+\-@]/.test(value) ? `'${value}` : value).replaceAll('"', '""')}"`;
  const lines = [['kind', 'name', 'owner', 'reason', 'review_date', 'status']];
  for (const e of entries)
    lines.push([
      e.kind,
      e.name,
      e.owner ?? '',
      e.reason ?? '',
      e.reviewAt ? e.reviewAt.toISOString().slice(0, 10) : '',
      e.status,
    ]);
  return `${lines.map((l) => l.map(field).join(',')).join('\r\n')}\r\n`;
}

export type ExemptionRegister = ReturnType<typeof exemptionRegister>;
