import { GatehouseError } from '../../errors.ts';
import type { AppPassword } from '../../model.ts';
import type { AuthenticationMethod } from '../method.ts';
import {
  type AppPasswordContext,
  createAppPassword,
  MAX_APP_PASSWORDS,
  revokeAppPassword,
} from './app-passwords.ts';

export interface AppPasswordSteps {
  startEnrolment: Record<string, never>;
  /** How many more the account may create (the name page says so before anything is typed). */
  enrolmentView: { remaining: number };
  finishEnrolment: { name: string };
  /** The key password, shown this once; only its hash is stored. */
  enrolmentResult: { appPassword: AppPassword; keyPassword: string };
  startChallenge: never;
  challengeView: never;
  finishChallenge: never;
}

const notOnThePortal = async (): Promise<never> => {
  // Legacy applications present app passwords to the LDAP and RADIUS gateways (legacySignIn),
  // never to a portal session.
  throw new GatehouseError('method_step_not_supported');
};

/** App passwords for legacy applications that cannot do MFA, behind the method interface. */
export function appPasswordMethod(ctx: AppPasswordContext): AuthenticationMethod<AppPasswordSteps> {
  return {
    kind: 'app_password',
    available: () => true,

    async startEnrolment(call) {
      const existing = await ctx.store.appPasswords.listForAccount(call.account.id);
      if (existing.length >= MAX_APP_PASSWORDS) throw new GatehouseError('too_many_app_passwords');
      return { remaining: MAX_APP_PASSWORDS - existing.length };
    },

    async finishEnrolment(call, input) {
      const result = await createAppPassword(ctx, call.account, input.name, call.clientAddress);
      return { status: 'done', result };
    },

    startChallenge: notOnThePortal,
    finishChallenge: notOnThePortal,

    remove: (call, id) => revokeAppPassword(ctx, call.account, id, call.account.email, call.clientAddress),
  };
}
