import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock } from '../clock.ts';
import { GatehouseError } from '../errors.ts';
import type { Account } from '../model.ts';
import type { PasswordHasher } from '../passwords/hasher.ts';
import { normalisedPassword } from '../passwords/normalise.ts';
import { checkNewPassword } from '../passwords/password-policy.ts';
import type { Store } from '../store.ts';
import { bulkImport, type ImportOutcome, type ImportRequest } from './bulk-import.ts';

export interface NewAccountRequest {
  /** Already validated and lower-cased at the edge (see emailSchema). */
  email: string;
  displayName: string;
  password: string;
  sharedMailbox: boolean;
  groups: readonly string[];
}

export interface AccountService {
  add(request: NewAccountRequest, actor: string): Promise<Account>;
  remove(email: string, actor: string): Promise<void>;
  list(page?: { limit: number; offset: number }): Promise<Account[]>;
  find(email: string): Promise<Account | undefined>;
  findById(id: string): Promise<Account | undefined>;
  excludeGroupFromMfa(group: string, message: string, actor: string): Promise<void>;
  /** `users import`: a batch of accounts, each refused or added on its own (bulk-import.ts). */
  importBatch(
    requests: readonly ImportRequest[],
    actor: string,
    options?: { dryRun?: boolean },
  ): Promise<ImportOutcome[]>;
  /** Every account in email order, a page at a time, so memory stays flat at any size. */
  listAll(pageSize?: number): AsyncIterable<Account>;
}

export function accountService(deps: {
  store: Store;
  clock: Clock;
  hasher: PasswordHasher;
  audit: AuditLog;
}): AccountService {
  const { store, clock, hasher, audit } = deps;
  return {
    async add(request, actor) {
      // Set in NFC: an import file's NFD "é" and a keyboard's NFC one are the same password.
      const password = normalisedPassword(request.password);
      checkNewPassword(password, request.email);
      const passwordHash = await hasher.hash(password);
      const account = {
        id: randomUUID(),
        email: request.email,
        displayName: request.displayName,
        passwordHash,
        sharedMailbox: request.sharedMailbox,
        createdAt: clock.now(),
        groups: [...new Set(request.groups)].sort(),
      };
      await store.transaction(async (tx) => {
        await tx.accounts.insert(account);
        await audit.record(
          {
            type: 'account.added',
            email: account.email,
            actor,
            detail: { sharedMailbox: account.sharedMailbox, groups: account.groups },
          },
          tx,
        );
      });
      return { ...account, mfaEnabled: false, mfaEnabledAt: null };
    },

    async remove(email, actor) {
      await store.transaction(async (tx) => {
        const account = await tx.accounts.findByEmail(email);
        if (!account) throw new GatehouseError('account_not_found');
        await tx.accounts.remove(account.id);
        await audit.record({ type: 'account.removed', email, actor }, tx);
      });
    },

    list: (page) => store.accounts.list(page),
    importBatch: bulkImport(deps),
    async *listAll(pageSize = 1000) {
      let after: string | null = null;
      for (;;) {
        const page = await store.accounts.listAfter(after, pageSize);
        yield* page;
        if (page.length < pageSize) return;
        after = page[page.length - 1]?.email ?? null;
      }
    },
    find: (email) => store.accounts.findByEmail(email),
    findById: (id) => store.accounts.findById(id),

    async excludeGroupFromMfa(group, message, actor) {
      await store.transaction(async (tx) => {
        await tx.groups.setMfaExclusion(group, true, message);
        await audit.record({ type: 'group.mfa_excluded', actor, detail: { group, message } }, tx);
      });
    },
  };
}
