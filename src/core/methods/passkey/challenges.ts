import type { AuditLog } from '../../audit/audit-log.ts';
import type { Clock, Random } from '../../clock.ts';
import { type ErrorCode, GatehouseError } from '../../errors.ts';
import type { PasskeyChallenge } from '../../model.ts';
import type { Store } from '../../store.ts';

export interface ChallengeContext {
  store: Store;
  clock: Clock;
  random: Random;
  audit: AuditLog;
}

/** A new challenge, stored bound to the session (or browser state) that asked for it. */
export async function issueChallenge(
  ctx: ChallengeContext,
  purpose: PasskeyChallenge['purpose'],
  bindingHash: string,
  accountId: string | null,
  seconds: number,
): Promise<string> {
  const challenge = ctx.random.bytes(32).toString('base64url');
  const now = ctx.clock.now();
  await ctx.store.passkeys.insertChallenge({
    challenge,
    purpose,
    bindingHash,
    accountId,
    createdAt: now,
    expiresAt: new Date(now.getTime() + seconds * 1000),
    usedAt: null,
  });
  return challenge;
}

/**
 * Claims the challenge the browser answered, once, for the session that asked for it (one
 * conditional update). When the claim fails, the error says why: used already, asked for by
 * another session, or unknown/expired.
 */
export async function claimChallenge(
  ctx: ChallengeContext,
  challenge: string,
  bindingHash: string,
  purpose: PasskeyChallenge['purpose'],
): Promise<PasskeyChallenge> {
  const now = ctx.clock.now();
  if (await ctx.store.passkeys.claimChallenge(challenge, bindingHash, purpose, now)) {
    const claimed = await ctx.store.passkeys.findChallenge(challenge);
    if (claimed) return claimed;
  }
  const found = await ctx.store.passkeys.findChallenge(challenge);
  let code: ErrorCode = 'passkey_challenge_invalid';
  if (found && found.bindingHash !== bindingHash) code = 'passkey_challenge_other_session';
  else if (found?.usedAt) code = 'passkey_challenge_used';
  throw new GatehouseError(code);
}

/** Audits a refused passkey answer (reason: the error code), then throws it on. */
export async function refused(
  ctx: ChallengeContext,
  error: unknown,
  facts: { email?: string | null; clientAddress: string; credential?: string; purpose: string },
): Promise<never> {
  if (error instanceof GatehouseError && error.code.startsWith('passkey_')) {
    await ctx.audit.record({
      type: 'passkey.refused',
      email: facts.email ?? null,
      clientAddress: facts.clientAddress,
      detail: {
        reason: error.code,
        purpose: facts.purpose,
        ...(facts.credential ? { credential: facts.credential } : {}),
      },
    });
  }
  throw error;
}
