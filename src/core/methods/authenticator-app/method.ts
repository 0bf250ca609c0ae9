import { GatehouseError } from '../../errors.ts';
import type { PushRequest } from '../../model.ts';
import { issueProof } from '../../sign-in-flow/proof.ts';
import type { AuthenticationMethod, MethodCall } from '../method.ts';
import { isActive } from '../method.ts';
import type { AppContext } from './context.ts';
import type { AuthenticatorApp } from './index.ts';

type RegistrationState = Awaited<ReturnType<AuthenticatorApp['registrationState']>>;

export interface AuthenticatorAppSteps {
  startEnrolment: Record<string, never>;
  enrolmentView: RegistrationState;
  finishEnrolment: Record<string, never>;
  enrolmentResult: never;
  /** The session's waiting request, or a new one naming the application signed in to. */
  startChallenge: { application: string };
  challengeView: PushRequest | undefined;
  finishChallenge: Record<string, never>;
}

/**
 * The authenticator app behind the method interface: registration by QR code then a number to
 * match, sign-in by push with number matching. The proof is the session's approved request,
 * consumed once.
 */
export function authenticatorAppMethod(
  ctx: AppContext,
  app: AuthenticatorApp,
  removeMethod: (call: MethodCall, id: string) => Promise<void>,
): AuthenticationMethod<AuthenticatorAppSteps> {
  async function claim(
    call: MethodCall,
    request: PushRequest | undefined,
    purpose: 'sign_in' | 'registration',
  ) {
    if (request?.status !== 'approved') return undefined;
    if (!(await ctx.store.pushRequests.consume(request.id, call.session.idHash, ctx.clock.now())))
      return undefined;
    return issueProof({
      sessionHash: call.session.idHash,
      factor: 'swk',
      purpose,
      challenge: `push:${request.id}`,
    });
  }

  return {
    kind: 'authenticator_app',
    available: (methods) => methods.some(isActive('authenticator_app')),

    async startEnrolment(call) {
      await app.startActivation(call.account, call.session, call.clientAddress);
      return app.registrationState(call.session);
    },

    async finishEnrolment(call) {
      const state = await app.registrationState(call.session);
      if (
        state.step === 'number' &&
        state.device.status === 'active' &&
        state.device.accountId === call.account.id
      ) {
        const proof = await claim(call, state.request, 'registration');
        if (proof) return { status: 'proved', proof };
      }
      return { status: 'waiting', view: state };
    },

    startChallenge: (call, input) =>
      app.signInRequest(call.account, call.session, call.clientAddress, input.application),

    async finishChallenge(call) {
      const request = await app.signInState(call.session);
      if (request && request.accountId !== call.account.id) throw new GatehouseError('request_not_found');
      const proof = await claim(call, request, 'sign_in');
      return proof ? { status: 'proved', proof } : { status: 'waiting', view: request };
    },

    remove: removeMethod,
  };
}
