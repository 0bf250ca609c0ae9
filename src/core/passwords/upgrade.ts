import type { AuditLog } from '../audit/audit-log.ts';
import type { Account } from '../model.ts';
import type { Store } from '../store.ts';
import type { PasswordHasher } from './hasher.ts';
import { storedHashScheme } from './stored-hashes.ts';

/**
 * After the account password was verified (portal, LDAP, RADIUS): a hash that is not argon2id at
 * the current parameters (imported bcrypt or PBKDF2, or older argon2id) is replaced by one that is,
 * made from the password just typed, and audited as `account.password_rehashed`.
 */
export async function upgradePasswordHash(
  deps: { store: Store; hasher: PasswordHasher; audit: AuditLog },
  account: Account,
  password: string,
): Promise<void> {
  if (account.passwordHash === null || !deps.hasher.needsRehash(account.passwordHash)) return;
  const from = storedHashScheme(account.passwordHash) ?? 'unknown';
  await deps.store.accounts.updatePasswordHash(account.id, await deps.hasher.hash(password));
  await deps.audit.record({
    type: 'account.password_rehashed',
    email: account.email,
    actor: 'system',
    detail: { from },
  });
}
