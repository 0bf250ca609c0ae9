import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { issueProof } from '../../sign-in-flow/proof.ts';
import { type AuthenticationMethod, isActive, type MethodCall } from '../method.ts';
import { type PasskeyAttachment, PHISHING_RESISTANT, passkeyFactor } from './factors.ts';
import type { PasskeyService } from './passkey-service.ts';

export interface PasskeySteps {
  /** `origin`: the portal's public address (its host name is the RP ID). */
  startEnrolment: { origin: string };
  enrolmentView: PublicKeyCredentialCreationOptionsJSON;
  finishEnrolment: { origin: string; response: RegistrationResponseJSON; name: string };
  enrolmentResult: never;
  startChallenge: { origin: string };
  challengeView: PublicKeyCredentialRequestOptionsJSON;
  finishChallenge: { origin: string; response: AuthenticationResponseJSON };
}

/**
 * Passkeys (WebAuthn) behind the method interface. Each challenge is bound to the session that
 * asked and claimed once; the proof carries `hwk` or `swk`, `user` (user verification is
 * required) and the phishing-resistant flag.
 */
export function passkeyMethod(
  passkeys: PasskeyService,
  removeMethod: (call: MethodCall, id: string) => Promise<void>,
): AuthenticationMethod<PasskeySteps> {
  const proofFor = (
    call: MethodCall,
    purpose: 'sign_in' | 'registration',
    methodId: string,
    attachment: PasskeyAttachment,
  ) =>
    issueProof({
      sessionHash: call.session.idHash,
      factor: passkeyFactor(attachment),
      also: ['user', PHISHING_RESISTANT],
      purpose,
      challenge: `passkey:${methodId}`,
    });

  return {
    kind: 'passkey',
    available: (methods) => methods.some(isActive('passkey')),

    startEnrolment: (call, input) =>
      passkeys.beginRegistration(call.account, call.session.idHash, input.origin),

    async finishEnrolment(call, input) {
      const method = await passkeys.finishRegistration(
        call.account,
        call.session.idHash,
        input.origin,
        input.response,
        input.name,
        call.clientAddress,
      );
      const attachment = (method.data as { attachment: PasskeyAttachment }).attachment;
      return { status: 'proved', proof: proofFor(call, 'registration', method.id, attachment) };
    },

    startChallenge: (call, input) =>
      passkeys.beginAuthentication(call.account, call.session.idHash, input.origin),

    async finishChallenge(call, input) {
      const use = await passkeys.finishAuthentication(
        call.account,
        call.session.idHash,
        input.origin,
        input.response,
        call.clientAddress,
      );
      return { status: 'proved', proof: proofFor(call, 'sign_in', use.method.id, use.attachment) };
    },

    remove: removeMethod,
  };
}
