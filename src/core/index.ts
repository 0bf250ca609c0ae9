import { type AccountService, accountService } from './accounts/account-service.ts';
import { type AuditLog, auditLog } from './audit/audit-log.ts';
import { type Clock, type Random, systemClock, systemRandom } from './clock.ts';
import { argon2idHasher, type PasswordHasher } from './passwords/hasher.ts';
import { type SelfEnrolment, selfEnrolment } from './policy/self-enrolment.ts';
import { type SessionService, sessionService } from './sessions/session-service.ts';
import { type SessionLifetime, type SignInResult, signInWithPassword } from './sessions/sign-in.ts';
import type { Store } from './store.ts';
import { type ThrottleRule, throttle } from './throttle/throttle.ts';

export interface CoreSettings {
  session: SessionLifetime;
  /** Failures per address typed at sign-in (whether or not the account exists). */
  accountLockout: ThrottleRule;
  /** Failures per client address, across all accounts (password spraying). */
  clientLockout: ThrottleRule;
}

export const defaultCoreSettings: CoreSettings = {
  session: { idleMinutes: 30, absoluteHours: 12 },
  accountLockout: { maxFailures: 5, windowMinutes: 15, lockMinutes: 15 },
  clientLockout: { maxFailures: 50, windowMinutes: 15, lockMinutes: 15 },
};

export interface Core {
  store: Store;
  clock: Clock;
  audit: AuditLog;
  accounts: AccountService;
  sessions: SessionService;
  enrolment: SelfEnrolment;
  signIn(input: { email: string; password: string; clientAddress: string }): Promise<SignInResult>;
}

/** Wires the core from plain parts; nothing here reads the environment or knows about HTTP. */
export function createCore(parts: {
  store: Store;
  settings?: CoreSettings;
  clock?: Clock;
  random?: Random;
  hasher?: PasswordHasher;
}): Core {
  const { store, settings = defaultCoreSettings, clock = systemClock, random = systemRandom } = parts;
  const hasher = parts.hasher ?? argon2idHasher();
  const audit = auditLog(store, clock);
  return {
    store,
    clock,
    audit,
    accounts: accountService({ store, clock, hasher, audit }),
    sessions: sessionService({ store, clock, audit, lifetime: settings.session }),
    enrolment: selfEnrolment({ store, clock, audit }),
    signIn: signInWithPassword({
      store,
      clock,
      random,
      hasher,
      audit,
      lifetime: settings.session,
      accountThrottle: throttle(store, clock, settings.accountLockout),
      clientThrottle: throttle(store, clock, settings.clientLockout),
    }),
  };
}

export { GatehouseError, isGatehouseError } from './errors.ts';
export type { Account, AuditEvent, Group, Session } from './model.ts';
