import { GatehouseError } from '../../errors.ts';
import type { CertificateBinding } from '../../model.ts';
import type { AuthenticationMethod } from '../method.ts';
import type { SmartcardMethod } from './smartcard-service.ts';

export interface SmartcardSteps {
  startEnrolment: Record<string, never>;
  /** The state the certificate endpoint binds its ticket to (kept by the browser). */
  enrolmentView: { state: string };
  finishEnrolment: { ticket: string; state: string };
  enrolmentResult: CertificateBinding;
  startChallenge: never;
  challengeView: never;
  finishChallenge: never;
}

const signsInWithoutASession = async (): Promise<never> => {
  // A card is both factors at once, so it opens a session (the flow's signInWithSmartcard)
  // rather than answering a challenge of one.
  throw new GatehouseError('method_step_not_supported');
};

/** Smartcards (Log in with my Care identity) behind the method interface: adding and removing a card. */
export function smartcardMethodSteps(smartcard: SmartcardMethod): AuthenticationMethod<SmartcardSteps> {
  return {
    kind: 'smartcard',
    available: () => smartcard.configured,
    startEnrolment: async () => ({ state: smartcard.newState() }),
    async finishEnrolment(call, input) {
      const binding = await smartcard.bindPresented(call.account, {
        ...input,
        clientAddress: call.clientAddress,
      });
      return { status: 'done', result: binding };
    },
    startChallenge: signsInWithoutASession,
    finishChallenge: signsInWithoutASession,
    remove: (call, id) => smartcard.remove(call.account, id, call.account.email, call.clientAddress),
  };
}
