/**
 * The telephone network as the core sees it. Providers (a development phone, Twilio, SMPP, SIP)
 * live in src/channels/telephony/ and are chosen in configuration; the core never dials itself.
 */

/** How an automated verification call ended, as the provider heard it. */
export type CallOutcome =
  /** The callee pressed # (the verification). */
  | 'confirmed'
  /** The callee pressed 0 then # : "this was not me". */
  | 'reported'
  /** Another key, or # not pressed before the prompt gave up. */
  | 'wrong_key'
  | 'no_answer'
  | 'rejected'
  | 'failed';

export interface VerificationCall {
  /** Correlates the outcome with the challenge; opaque to the provider. */
  challengeId: string;
  /** E.164, already checked against the country rules. */
  to: string;
  /** What the automated voice says, naming the organisation. */
  message: string;
}

export interface TextMessage {
  challengeId: string;
  to: string;
  text: string;
}

export interface Telephony {
  /** Starts the call; the outcome arrives later through `onOutcome` (calls take seconds). */
  placeCall(call: VerificationCall): Promise<void>;
  sendText(message: TextMessage): Promise<void>;
}

/** Where providers report call outcomes: the phone method's `recordOutcome`. */
export type CallOutcomeSink = (challengeId: string, outcome: CallOutcome) => Promise<void>;
