import { GatehouseError } from '../../errors.ts';
import type { MfaMethod } from '../../model.ts';
import { issueProof } from '../../sign-in-flow/proof.ts';
import type { AuthenticationMethod, MethodCall } from '../method.ts';
import { totpKeyData } from './totp-data.ts';
import {
  beginStandardApp,
  finishStandardApp,
  pendingStandardApp,
  type TotpContext,
  verifyCode,
} from './totp-service.ts';

type Setup = Awaited<ReturnType<typeof beginStandardApp>>;

export interface TotpSteps {
  /** `issuer`: the name the app shows above the code. */
  startEnrolment: { issuer: string };
  enrolmentView: Setup;
  finishEnrolment: { issuer: string; code: string };
  enrolmentResult: never;
  startChallenge: Record<string, never>;
  /** Nothing is sent: the user reads the code off the app. */
  challengeView: null;
  finishChallenge: { code: string };
}

/**
 * Verification codes (RFC 6238) behind the method interface: a standard authenticator app
 * registered by its otpauth QR code, and the codes of the Gatehouse app. The proof is a TOTP step
 * claimed once (a code used before, or an earlier one, fails).
 */
export function totpMethod(
  ctx: TotpContext,
  removeMethod: (call: MethodCall, id: string) => Promise<void>,
): AuthenticationMethod<TotpSteps> {
  const proofFor = (call: MethodCall, purpose: 'sign_in' | 'registration', methodId: string) =>
    issueProof({ sessionHash: call.session.idHash, factor: 'otp', purpose, challenge: `totp:${methodId}` });

  async function setupOf(call: MethodCall, issuer: string) {
    const { account, session } = call;
    return (
      (await pendingStandardApp(ctx, account, issuer, session.idHash)) ??
      (await beginStandardApp(ctx, account, issuer, session.idHash))
    );
  }

  const showsCodes = (methods: readonly MfaMethod[]) =>
    methods.some((m) => m.status === 'active' && totpKeyData.safeParse(m.data).success);

  return {
    kind: 'totp',
    available: showsCodes,

    startEnrolment: (call, input) => setupOf(call, input.issuer),

    async finishEnrolment(call, input) {
      const setup = await pendingStandardApp(ctx, call.account, input.issuer, call.session.idHash);
      if (!setup) return { status: 'waiting', view: await setupOf(call, input.issuer) };
      await finishStandardApp(
        ctx,
        call.account,
        setup.methodId,
        input.code,
        call.clientAddress,
        call.session.idHash,
      );
      return { status: 'proved', proof: proofFor(call, 'registration', setup.methodId) };
    },

    // Nothing is sent, but an account with no method that shows codes is told so at once, as
    // every method refuses a challenge for a method the account does not have.
    async startChallenge(call) {
      if (!showsCodes(await ctx.store.methods.listForAccount(call.account.id)))
        throw new GatehouseError('method_not_found');
      return null;
    },

    async finishChallenge(call, input) {
      const method = await verifyCode(ctx, call.account, input.code, call.clientAddress);
      return { status: 'proved', proof: proofFor(call, 'sign_in', method.id) };
    },

    remove: removeMethod,
  };
}
