import { createHash } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock, Random } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import { ACTIVATION_ALPHABET, formatActivationCode } from '../methods/authenticator-app/activation-code.ts';
import type { Account, TemporaryPass } from '../model.ts';
import type { Store } from '../store.ts';
import type { Throttle } from '../throttle/throttle.ts';
import { type ConsoleActor, mustChange, reasonOf } from './actor.ts';

/** Lifetimes an operator may choose (Entra's are 10 minutes to 30 days; ours are a working day). */
export const PASS_MIN_MINUTES = 10;
export const PASS_MAX_MINUTES = 8 * 60;
const PASS_LENGTH = 16;

/**
 * 16 characters of the activation codes' 31 letters (about 79 bits), shown in groups of four.
 * So many bits make guessing hopeless, so a SHA-256 of the pass is enough to store (as session
 * tokens): a database leak gives no pass, and a use is one indexed lookup, no slow hash.
 */
function newPass(random: Random): string {
  let pass = '';
  while (pass.length < PASS_LENGTH)
    for (const byte of random.bytes(32))
      if (byte < 248 && pass.length < PASS_LENGTH) pass += ACTIVATION_ALPHABET[byte % 31];
  return pass;
}

export function hashPass(typed: string): string {
  const pass = typed.replace(/[\s-]/g, '').toUpperCase();
  return createHash('sha256').update(`gatehouse-tap:${pass}`).digest('base64url');
}

export interface TemporaryPassDeps {
  store: Store;
  clock: Clock;
  random: Random;
  audit: AuditLog;
  /** Wrong passes per account, reserved before each is checked. */
  attempts: Throttle;
}

export function temporaryPasses(deps: TemporaryPassDeps) {
  const { store, clock, random, audit } = deps;
  return {
    /** Issues a pass (replacing any earlier one) and returns it: the only time it is shown. */
    async issue(
      actor: ConsoleActor,
      account: Account,
      options: { lifetimeMinutes: number; oneTime: boolean; reason: string | undefined },
    ): Promise<{ pass: string; expiresAt: Date }> {
      mustChange(actor);
      const reason = reasonOf(options.reason);
      const minutes = options.lifetimeMinutes;
      if (!Number.isInteger(minutes) || minutes < PASS_MIN_MINUTES || minutes > PASS_MAX_MINUTES)
        throw new GatehouseError('temporary_pass_lifetime');
      const pass = newPass(random);
      const now = clock.now();
      const expiresAt = new Date(now.getTime() + minutes * 60_000);
      await store.transaction(async (tx) => {
        const replaced = await tx.temporaryPasses.replace({
          accountId: account.id,
          passHash: hashPass(pass),
          oneTime: options.oneTime,
          createdAt: now,
          expiresAt,
          createdBy: actor.name,
          uses: 0,
          lastUsedAt: null,
        });
        if (replaced)
          await audit.record(
            {
              type: 'temporary_pass.revoked',
              email: account.email,
              actor: actor.name,
              detail: { reason: 'replaced' },
            },
            tx,
          );
        await audit.record(
          {
            type: 'temporary_pass.issued',
            email: account.email,
            actor: actor.name,
            detail: {
              reason,
              oneTime: options.oneTime,
              lifetimeMinutes: minutes,
              expiresAt: expiresAt.toISOString(),
            },
          },
          tx,
        );
      });
      return { pass: formatActivationCode(pass), expiresAt };
    },

    async revoke(actor: ConsoleActor, account: Account, reason: string | undefined): Promise<boolean> {
      mustChange(actor);
      const why = reasonOf(reason);
      const removed = await store.temporaryPasses.remove(account.id);
      if (removed)
        await audit.record({
          type: 'temporary_pass.revoked',
          email: account.email,
          actor: actor.name,
          detail: { reason: why },
        });
      return removed;
    },

    /** The account's current pass, for the console (never the pass itself: it is not kept). */
    current: (accountId: string): Promise<TemporaryPass | undefined> => store.temporaryPasses.find(accountId),

    /**
     * A user typed a pass at sign-in: counted against the account's attempts before it is checked,
     * then claimed in one conditional update bound to the session. Throws temporary_pass_invalid
     * (or too_many_attempts, unchecked) when it does not let them in.
     */
    async claim(account: Account, typed: string, sessionHash: string, clientAddress: string): Promise<void> {
      const key = `tap:account:${account.id}`;
      const attempt = await deps.attempts.reserve(key);
      if (!attempt.granted) {
        await audit.record({
          type: 'temporary_pass.refused',
          email: account.email,
          clientAddress,
          detail: { reason: 'too_many_attempts', evaluated: false },
        });
        throw new GatehouseError('too_many_attempts', undefined, { until: attempt.until });
      }
      const won =
        typed.length <= 64 &&
        (await store.temporaryPasses.claim(account.id, hashPass(typed), clock.now(), sessionHash));
      if (!won) {
        await audit.record({
          type: 'temporary_pass.refused',
          email: account.email,
          clientAddress,
          detail: { reason: 'invalid_used_or_expired', evaluated: true },
        });
        // Checked and wrong: said so; a lock this failure set refuses the next attempts.
        await attempt.failed();
        throw new GatehouseError('temporary_pass_invalid');
      }
      // Not a failure; the count is not reset either (a pass is no reason to forget wrong ones).
      await attempt.released();
      await audit.record({
        type: 'temporary_pass.used',
        email: account.email,
        clientAddress,
        detail: { evaluated: true },
      });
    },

    /** Housekeeping: expired passes (and used one-time ones) go, each expiry audited. */
    async sweep(): Promise<number> {
      const finished = await store.temporaryPasses.removeFinished(clock.now());
      for (const { accountId, expired } of finished) {
        if (!expired) continue;
        const account = await store.accounts.findById(accountId);
        await audit.record({ type: 'temporary_pass.expired', email: account?.email ?? null, detail: {} });
      }
      return finished.length;
    },
  };
}

export type TemporaryPasses = ReturnType<typeof temporaryPasses>;
