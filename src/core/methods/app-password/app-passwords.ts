import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Clock, Random } from '../../clock.ts';
import { GatehouseError } from '../../errors.ts';
import type { Account, AppPassword } from '../../model.ts';
import type { PasswordHasher } from '../../passwords/hasher.ts';
import type { Store } from '../../store.ts';
import type { BindCache } from './bind-cache.ts';
import type { KeyFingerprint } from './fingerprint.ts';
import { formatKeyPassword, newKeyPassword } from './key-password.ts';

export const APP_PASSWORD_NAME_MIN = 8;
export const APP_PASSWORD_NAME_MAX = 64;
/** A user has a few legacy applications; more than this is a list nobody reviews. */
export const MAX_APP_PASSWORDS = 20;

export interface AppPasswordContext {
  store: Store;
  clock: Clock;
  random: Random;
  hasher: PasswordHasher;
  audit: AuditLog;
  /** Finds the one app password a legacy sign-in verifies (see fingerprint.ts). */
  fingerprint: KeyFingerprint;
  /** Recent successful binds, when configured (see bind-cache.ts). */
  binds: BindCache;
}

export function checkAppPasswordName(name: string): string {
  const trimmed = name.trim();
  if (
    [...trimmed].length < APP_PASSWORD_NAME_MIN ||
    [...trimmed].length > APP_PASSWORD_NAME_MAX ||
    /\p{Cc}/u.test(trimmed)
  ) {
    throw new GatehouseError('app_password_name_invalid');
  }
  return trimmed;
}

/** Creates an app password; the key password is returned this once and only its hash is stored. */
export async function createAppPassword(
  ctx: AppPasswordContext,
  account: Account,
  name: string,
  clientAddress: string,
) {
  const cleanName = checkAppPasswordName(name);
  if ((await ctx.store.appPasswords.listForAccount(account.id)).length >= MAX_APP_PASSWORDS) {
    throw new GatehouseError('too_many_app_passwords');
  }
  const key = newKeyPassword(ctx.random);
  const keyFingerprint = await ctx.fingerprint(key);
  const appPassword: AppPassword = {
    id: randomUUID(),
    accountId: account.id,
    name: cleanName,
    passwordHash: await ctx.hasher.hash(key),
    createdAt: ctx.clock.now(),
    lastUsedAt: null,
    lastUsedProtocol: null,
    lastUsedAddress: null,
  };
  await ctx.store.transaction(async (tx) => {
    await tx.appPasswords.insert(appPassword, keyFingerprint);
    await ctx.audit.record(
      {
        type: 'app_password.created',
        email: account.email,
        actor: account.email,
        clientAddress,
        detail: { name: cleanName },
      },
      tx,
    );
  });
  return { appPassword, keyPassword: formatKeyPassword(key) };
}

export async function revokeAppPassword(
  ctx: AppPasswordContext,
  account: Account,
  id: string,
  actor: string,
  clientAddress: string | null,
) {
  const existing = (await ctx.store.appPasswords.listForAccount(account.id)).find((p) => p.id === id);
  if (!existing || !(await ctx.store.appPasswords.remove(account.id, id)))
    throw new GatehouseError('method_not_found');
  ctx.binds.drop(id);
  await ctx.audit.record({
    type: 'app_password.revoked',
    email: account.email,
    actor,
    clientAddress,
    detail: { name: existing.name },
  });
}
