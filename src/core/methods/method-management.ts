import type { AuditLog } from '../audit/audit-log.ts';
import { GatehouseError } from '../errors.ts';
import type { Account, MfaMethod } from '../model.ts';
import type { Store } from '../store.ts';

/** Methods that prove a second factor at sign-in (app passwords do not). */
const isSignInMethod = (m: MfaMethod) => m.status === 'active';
/** What Security info lists: those, and suspended ones (shown as such, so they can be removed). */
const isListed = (m: MfaMethod) => m.status === 'active' || m.status === 'suspended';

/** What the Security info page does with a user's methods. */
export function methodManagement(store: Store, audit: AuditLog) {
  return {
    async list(account: Account) {
      const [methods, appPasswords] = await Promise.all([
        store.methods.listForAccount(account.id),
        store.appPasswords.listForAccount(account.id),
      ]);
      return { methods: methods.filter(isListed), appPasswords };
    },

    /** Removes a method; the last one cannot go while MFA is on (add its replacement first). */
    async remove(account: Account, methodId: string, clientAddress: string) {
      await store.transaction(async (tx) => {
        const methods = (await tx.methods.listForAccount(account.id)).filter(isListed);
        const method = methods.find((m) => m.id === methodId);
        if (!method) throw new GatehouseError('method_not_found');
        // A suspended method proves nothing: what must remain is another one that does.
        const others = methods.filter((m) => m.id !== method.id && isSignInMethod(m));
        if (account.mfaEnabled && others.length === 0) throw new GatehouseError('last_method');
        await tx.methods.remove(method.id);
        await audit.record(
          {
            type: 'method.removed',
            email: account.email,
            actor: account.email,
            clientAddress,
            detail: { method: method.id, kind: method.kind, label: method.label },
          },
          tx,
        );
      });
    },

    async setDefault(account: Account, methodId: string, clientAddress: string) {
      const method = (await store.methods.listForAccount(account.id)).find(
        (m) => m.id === methodId && isSignInMethod(m),
      );
      if (!method) throw new GatehouseError('method_not_found');
      await store.methods.setDefault(account.id, method.id);
      await audit.record({
        type: 'method.default_changed',
        email: account.email,
        actor: account.email,
        clientAddress,
        detail: { method: method.id, kind: method.kind },
      });
    },

    /**
     * The service desk's reset: every method, app password and session of the account goes at
     * once, so a lost phone or a leaked app password stops working immediately.
     */
    async resetMfa(account: Account, actor: string, reason?: string) {
      await store.transaction(async (tx) => {
        const methods = await tx.methods.removeAllForAccount(account.id);
        const appPasswords = await tx.appPasswords.removeAllForAccount(account.id);
        const sessions = await tx.sessions.removeAllForAccount(account.id);
        await audit.record(
          {
            type: 'mfa.reset',
            email: account.email,
            actor,
            detail: { methods, appPasswords, sessions, ...(reason ? { reason } : {}) },
          },
          tx,
        );
      });
    },
  };
}

export type MethodManagement = ReturnType<typeof methodManagement>;
