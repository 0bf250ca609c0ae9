import type { ThrottleRule } from '../../throttle/throttle.ts';
import { defaultPushEndpointPolicy, type PushEndpointPolicy } from './notifier.ts';

export interface PushSettings {
  /** How long a request waits for an answer (Entra and Duo: about a minute or two). */
  requestSeconds: number;
  /** Requests waiting at once per account; more are refused (push bombing). */
  maxPending: number;
  /** Denials and wrong numbers that block further pushes for a while (MFA fatigue). */
  failures: ThrottleRule;
  /** How long pushes stay blocked after the user reports a request as not theirs. */
  reportBlockMinutes: number;
  /** How long the QR code on the PC stays valid. */
  activationMinutes: number;
  /** Where Web Push subscriptions may point. */
  endpoints: PushEndpointPolicy;
}

export const defaultPushSettings: PushSettings = {
  requestSeconds: 120,
  maxPending: 3,
  failures: { maxFailures: 3, windowMinutes: 15, lockMinutes: 15 },
  reportBlockMinutes: 60,
  activationMinutes: 10,
  endpoints: defaultPushEndpointPolicy,
};
