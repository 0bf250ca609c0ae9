import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { Account } from '../model.ts';
import type { Store } from '../store.ts';

/** The registration campaign (as Entra's): who is nudged towards the authenticator app, how often. */
export interface NudgeSettings {
  /** Groups whose members are nudged; `*` for every account. Empty: nobody. */
  groups: string[];
  /** Days a `Not now` puts it off. */
  snoozeDays: number;
  /** How many times `Not now` may be chosen. */
  maxSnoozes: number;
}

export const defaultNudgeSettings: NudgeSettings = { groups: [], snoozeDays: 1, maxSnoozes: 3 };

export interface NudgeState {
  /** Whether `Not now` is still offered. */
  canSnooze: boolean;
  snoozesLeft: number;
}

/**
 * After a sign-in, a user whose only method is the phone is asked to set up the authenticator
 * app. Operators choose the groups included; `Not now` puts it off a few days, a few times.
 */
export function registrationNudge(deps: {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  settings: NudgeSettings;
}) {
  const { store, clock, audit } = deps;

  const included = (account: Account, groups: string[]) =>
    groups.includes('*') || account.groups.some((group) => groups.includes(group));

  return {
    /** Whether to show the nudge now; undefined when not. */
    async due(account: Account): Promise<NudgeState | undefined> {
      const settings = deps.settings;
      if (!included(account, settings.groups)) return undefined;
      const methods = (await store.methods.listForAccount(account.id)).filter((m) => m.status === 'active');
      if (methods.length === 0 || !methods.every((m) => m.kind === 'phone')) return undefined;
      const nudge = await store.nudges.find(account.id);
      if (nudge && nudge.snoozedUntil > clock.now()) return undefined;
      const used = nudge?.snoozes ?? 0;
      return { canSnooze: used < settings.maxSnoozes, snoozesLeft: Math.max(0, settings.maxSnoozes - used) };
    },

    async snooze(account: Account, clientAddress: string): Promise<void> {
      const settings = deps.settings;
      const until = new Date(clock.now().getTime() + settings.snoozeDays * 24 * 3_600_000);
      if (!(await store.nudges.snooze(account.id, until, settings.maxSnoozes)))
        throw new GatehouseError('nudge_snoozes_used');
      const snoozes = (await store.nudges.find(account.id))?.snoozes ?? 0;
      await audit.record({
        type: 'nudge.snoozed',
        email: account.email,
        clientAddress,
        detail: { snoozes, until },
      });
    },
  };
}
