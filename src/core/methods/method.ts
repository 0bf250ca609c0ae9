import type { Account, MfaMethod, Session } from '../model.ts';
import type { Proof } from '../sign-in-flow/proof.ts';

/** Who is asking: the signed-in session, its account, and where the request came from. */
export interface MethodCall {
  account: Account;
  session: Session;
  clientAddress: string;
}

/**
 * How a finishing step ended: with a proof for the session (a second factor proved), done with
 * something to show once (an app password's key), or still waiting (what to show meanwhile).
 */
export type Outcome<Waiting, Done = never> =
  | { status: 'proved'; proof: Proof }
  | { status: 'done'; result: Done }
  | { status: 'waiting'; view: Waiting };

/** The inputs and views of one method's steps. */
export interface MethodSteps {
  startEnrolment: unknown;
  enrolmentView: unknown;
  finishEnrolment: unknown;
  enrolmentResult: unknown;
  startChallenge: unknown;
  challengeView: unknown;
  finishChallenge: unknown;
}

/**
 * The one interface every authentication method implements, in paired halves whose pending state
 * lives in the database (so a restart between them loses nothing). The sign-in flow calls these
 * after it has checked that the session may take the step; a method never moves a session itself,
 * it returns a proof. A step a method does not have (an app password is never challenged on the
 * portal) answers `method_step_not_supported`.
 */
export interface AuthenticationMethod<S extends MethodSteps = MethodSteps> {
  readonly kind: string;
  /** Whether the account can be challenged with it now (it has an active one). */
  available(methods: readonly MfaMethod[]): boolean;
  startEnrolment(call: MethodCall, input: S['startEnrolment']): Promise<S['enrolmentView']>;
  finishEnrolment(
    call: MethodCall,
    input: S['finishEnrolment'],
  ): Promise<Outcome<S['enrolmentView'], S['enrolmentResult']>>;
  startChallenge(call: MethodCall, input: S['startChallenge']): Promise<S['challengeView']>;
  finishChallenge(call: MethodCall, input: S['finishChallenge']): Promise<Outcome<S['challengeView']>>;
  remove(call: MethodCall, id: string): Promise<void>;
}

export const isActive = (kind: string) => (m: MfaMethod) => m.kind === kind && m.status === 'active';
