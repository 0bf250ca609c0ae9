import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError, isGatehouseError } from '../errors.ts';
import type { NewAccount } from '../model.ts';
import type { PasswordHasher } from '../passwords/hasher.ts';
import { normalisedPassword } from '../passwords/normalise.ts';
import { checkNewPassword } from '../passwords/password-policy.ts';
import { parseImportedHash } from '../passwords/stored-hashes.ts';
import type { Store } from '../store.ts';

/** How an imported account proves its password: typed in the file, a hash from elsewhere, or none. */
export type ImportCredential =
  | { kind: 'password'; password: string }
  | { kind: 'hash'; passwordHash: string }
  /** No password: the account signs in with a smartcard only. */
  | { kind: 'none' };

export interface ImportRequest {
  /** Already validated and lower-cased at the edge (see emailSchema). */
  email: string;
  displayName: string;
  credential: ImportCredential;
  sharedMailbox: boolean;
  groups: readonly string[];
}

/** One outcome a request, in order: null when added (or, in a dry run, when it would be). */
export type ImportOutcome = GatehouseError | null;

/**
 * Adds a batch of accounts. Every row is judged first (password policy, imported hash, duplicate
 * address in the batch or the database); the good ones are then written in one transaction of
 * multi-row statements, each account with its groups and its `account.added` event. A rejected
 * row writes nothing. Passwords given in plain text are hashed a few at a time, one per core.
 */
export function bulkImport(deps: { store: Store; clock: Clock; hasher: PasswordHasher; audit: AuditLog }) {
  const { store, clock, hasher, audit } = deps;
  const parallelism = Math.max(1, availableParallelism());
  // Groups this process has seen committed, so that each batch of a large import does not ask
  // again for the same wards (groups are never removed; the set stops growing at its cap).
  const knownGroups = new Set<string>();
  const KNOWN_GROUPS_CAP = 100_000;

  async function passwordHashOf(request: ImportRequest, dryRun: boolean): Promise<string | null> {
    const { credential } = request;
    if (credential.kind === 'none') return null;
    if (credential.kind === 'hash') return credential.passwordHash.trim();
    // Set in NFC: an import file's NFD "é" and a keyboard's NFC one are the same password.
    const password = normalisedPassword(credential.password);
    checkNewPassword(password, request.email);
    return dryRun ? '' : hasher.hash(password);
  }

  return async (
    requests: readonly ImportRequest[],
    actor: string,
    options: { dryRun?: boolean } = {},
  ): Promise<ImportOutcome[]> => {
    const dryRun = options.dryRun ?? false;
    const outcomes: ImportOutcome[] = requests.map(() => null);
    const hashes: (string | null)[] = requests.map(() => null);

    // Cheap checks first, so that no time is spent hashing a row refused anyway.
    const seen = new Set<string>();
    requests.forEach((request, i) => {
      if (seen.has(request.email)) outcomes[i] = new GatehouseError('account_exists');
      seen.add(request.email);
      if (request.credential.kind === 'hash') {
        try {
          parseImportedHash(request.credential.passwordHash);
        } catch (error) {
          outcomes[i] = asGatehouseError(error);
        }
      }
    });
    // Plain-text rows are checked before they are hashed, and a dry run writes nothing; otherwise
    // the insert itself skips a taken address (ON CONFLICT) and reports it just the same.
    const needsCheck = dryRun || requests.some((r) => r.credential.kind === 'password');
    const existing = needsCheck ? await store.accounts.existingEmails([...seen]) : new Set<string>();
    requests.forEach((request, i) => {
      if (outcomes[i] === null && existing.has(request.email))
        outcomes[i] = new GatehouseError('account_exists');
    });

    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const i = next++;
        const request = requests[i] as ImportRequest;
        if (outcomes[i] !== null) continue;
        try {
          hashes[i] = await passwordHashOf(request, dryRun);
        } catch (error) {
          outcomes[i] = asGatehouseError(error);
        }
      }
    };
    await Promise.all(Array.from({ length: parallelism }, worker));
    if (dryRun) return outcomes;

    const createdAt = clock.now();
    const accounts: NewAccount[] = [];
    requests.forEach((request, i) => {
      if (outcomes[i] !== null) return;
      accounts.push({
        id: randomUUID(),
        email: request.email,
        displayName: request.displayName,
        passwordHash: hashes[i] ?? null,
        sharedMailbox: request.sharedMailbox,
        createdAt,
        groups: [...new Set(request.groups)].sort(),
      });
    });
    const added = await store.transaction(async (tx) => {
      const emails = await tx.accounts.insertMany(accounts, knownGroups);
      await audit.recordMany(
        accounts
          .filter((a) => emails.has(a.email))
          .map((a) => ({
            type: 'account.added' as const,
            email: a.email,
            actor,
            detail: { sharedMailbox: a.sharedMailbox, groups: a.groups, imported: true },
          })),
        tx,
      );
      return emails;
    });
    for (const a of accounts)
      for (const g of added.has(a.email) ? a.groups : [])
        if (knownGroups.size < KNOWN_GROUPS_CAP) knownGroups.add(g);
    // Taken since the check above, by someone else: refused like any other duplicate.
    requests.forEach((request, i) => {
      if (outcomes[i] === null && !added.has(request.email))
        outcomes[i] = new GatehouseError('account_exists');
    });
    return outcomes;
  };
}

function asGatehouseError(error: unknown): GatehouseError {
  if (isGatehouseError(error)) return error;
  throw error;
}
