import type { PhoneChallenge, PhoneChannel } from '../../model.ts';
import { issueProof } from '../../sign-in-flow/proof.ts';
import type { AuthenticationMethod, MethodCall, Outcome } from '../method.ts';
import { isActive } from '../method.ts';
import type { PhoneContext, PhoneMethod } from './phone-service.ts';

export interface PhoneNumberInput {
  country: string;
  number: string;
  channel: PhoneChannel;
  office: boolean;
}

export interface PhoneSteps {
  /** A new number to call or text, or `again` for another call or text to the same one. */
  startEnrolment: { number: PhoneNumberInput } | { again: PhoneChannel };
  enrolmentView: PhoneChallenge | undefined;
  /** `code`: the code from a text; without it, whether the call was answered with #. */
  finishEnrolment: { code?: string };
  enrolmentResult: never;
  /** Without `channel`: the session's waiting call, or a new one to the default phone. */
  startChallenge: { channel?: PhoneChannel };
  challengeView: PhoneChallenge | undefined;
  finishChallenge: { code?: string };
}

/**
 * The Phone method of guide 002 behind the method interface: a call where the user presses #, or a
 * text with a code. The proof is the session's confirmed challenge, consumed once.
 */
export function phoneMethodSteps(
  ctx: Pick<PhoneContext, 'store' | 'clock'>,
  phone: PhoneMethod,
  removeMethod: (call: MethodCall, id: string) => Promise<void>,
): AuthenticationMethod<PhoneSteps> {
  async function finish(
    call: MethodCall,
    purpose: PhoneChallenge['purpose'],
    code: string | undefined,
  ): Promise<Outcome<PhoneChallenge | undefined>> {
    const { account, session, clientAddress } = call;
    if (code !== undefined) await phone.verifyText(account, session, purpose, code, clientAddress);
    const challenge = await phone.state(session, purpose);
    if (
      challenge?.status === 'confirmed' &&
      challenge.accountId === account.id &&
      (await ctx.store.phoneChallenges.consume(challenge.id, session.idHash, ctx.clock.now()))
    ) {
      const factor = challenge.channel === 'sms' ? 'sms' : 'tel';
      return {
        status: 'proved',
        proof: issueProof({
          sessionHash: session.idHash,
          factor,
          purpose,
          challenge: `phone:${challenge.id}`,
        }),
      };
    }
    return { status: 'waiting', view: challenge };
  }

  return {
    kind: 'phone',
    available: (methods) => methods.some(isActive('phone')),

    startEnrolment(call, input) {
      const { account, session, clientAddress } = call;
      return 'again' in input
        ? phone.retry(account, session, 'registration', input.again, clientAddress)
        : phone.register(account, session, input.number, clientAddress);
    },

    finishEnrolment: (call, input) => finish(call, 'registration', input.code),

    startChallenge(call, input) {
      const { account, session, clientAddress } = call;
      return input.channel
        ? phone.retry(account, session, 'sign_in', input.channel, clientAddress)
        : phone.signIn(account, session, clientAddress);
    },

    finishChallenge: (call, input) => finish(call, 'sign_in', input.code),

    remove: removeMethod,
  };
}
