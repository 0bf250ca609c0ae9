import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { CallOutcomeSink, TextMessage, VerificationCall } from '../../core/methods/phone/telephony.ts';
import type { AuditEventInput } from '../../core/model.ts';

/**
 * The shapes every telephony provider module (Twilio, SMPP, SIP) implements; the composition in
 * ./index.ts picks one voice and one text provider from the `telephony` settings.
 */

/** Places verification calls; reports how each ended through `onOutcome`. */
export interface VoiceProvider {
  placeCall(call: VerificationCall): Promise<void>;
  /** Stops listening and hangs up or forgets calls in progress; called once at shutdown. */
  close(): Promise<void>;
  /** Webhooks the provider needs on the portal (Twilio's), registered before it listens. */
  routes?: (app: FastifyInstance) => Promise<void>;
}

/** Sends text messages; `sendText` resolves only once the network has accepted the message. */
export interface TextProvider {
  sendText(message: TextMessage): Promise<void>;
  close(): Promise<void>;
  routes?: (app: FastifyInstance) => Promise<void>;
}

export interface ProviderDeps {
  onOutcome: CallOutcomeSink;
  logger: FastifyBaseLogger;
  /** Security events the provider sees (forged webhooks); the core's audit log. */
  audit?: (event: AuditEventInput) => Promise<void>;
}

/**
 * Why a provider could not call or text, with a stable code for the audit log and the operator's
 * logs (`smpp_bind_failed`, `twilio_rejected`...). The message is for operators: it never holds a
 * secret, a code or a full phone number.
 */
export class TelephonyError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TelephonyError';
    this.code = code;
  }
}

/** +447700900123 -> +4477…123: enough for an operator to tell numbers apart in a log. */
export const maskedNumber = (e164: string) => `${e164.slice(0, 5)}…${e164.slice(-3)}`;
