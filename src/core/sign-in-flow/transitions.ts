import { GatehouseError } from '../errors.ts';
import { PHISHING_RESISTANT_WANTED } from '../methods/passkey/factors.ts';
import { SMARTCARD_FACTORS } from '../methods/smartcard/settings.ts';
import type { SessionStage } from '../model.ts';

/**
 * RFC 8176 values a second factor adds: `swk` a software-held key (the app's signing key), `otp` a
 * one-time code, `tel` a confirmation by telephone call, `sms` a code by text message, `hwk` a
 * hardware-held key (a passkey on a security key or phone).
 */
export type SecondFactor = 'swk' | 'otp' | 'tel' | 'sms' | 'hwk';

/** Where a browser stands: no session yet, one of the session stages, or a session that ended. */
export type FlowStage = 'signed_out' | SessionStage | 'ended';

export interface FlowState {
  stage: FlowStage;
  /** amr values proved so far. */
  factors: string[];
}

/** What is true of the account now (not when the session began). */
export interface AccountFacts {
  mfaEnabled: boolean;
  activeMethods: number;
}

/** The named transitions of signing in. Only the flow applies them; routes only ask and render. */
export type FlowEvent =
  | { type: 'password_accepted' }
  | { type: 'smartcard_accepted' }
  /** A proof consumed by this session: `purpose` says whether it signed in or registered a method. */
  | {
      type: 'factor_proven';
      factor: SecondFactor;
      purpose: 'sign_in' | 'registration';
      also?: readonly string[];
    }
  /** A discoverable passkey at the sign-in page, without the password: both factors at once. */
  | { type: 'passkey_accepted'; factors: readonly string[] }
  /**
   * A Temporary Access Pass an operator issued, claimed by this session instead of the second
   * factor: it leads only to registering a new method (stage register_mfa), never further.
   */
  | { type: 'pass_accepted' }
  /** A complete session asked to prove a second factor again (an application demands MFA, or Security info wants a fresh proof). */
  | { type: 'step_up'; phishingResistant?: boolean }
  | { type: 'signed_out' };

/** What a session that used a Temporary Access Pass carries (not an RFC 8176 value: never an amr). */
export const PASS_FACTOR = 'tap';

const withFactors = (factors: string[], ...more: string[]) => [...new Set([...factors, ...more])];

/**
 * The next state, or a GatehouseError with the code that says why the event is not allowed here.
 * Pure, so that the whole table can be tested without HTTP or a database.
 */
export function nextState(state: FlowState, event: FlowEvent, facts: AccountFacts): FlowState {
  if (event.type === 'signed_out') {
    if (state.stage === 'signed_out' || state.stage === 'ended') throw new GatehouseError('session_expired');
    return { stage: 'ended', factors: [] };
  }
  if (state.stage === 'ended') throw new GatehouseError('session_expired');
  switch (event.type) {
    case 'password_accepted':
      if (state.stage !== 'signed_out') throw new GatehouseError('flow_step_not_allowed');
      return { stage: stageAfterPassword(facts), factors: ['pwd'] };
    case 'smartcard_accepted':
      if (state.stage !== 'signed_out') throw new GatehouseError('flow_step_not_allowed');
      return { stage: 'complete', factors: [...SMARTCARD_FACTORS] };
    case 'factor_proven': {
      const expected = event.purpose === 'registration' ? 'register_mfa' : 'verify_mfa';
      // A session adding a method from Security info is already complete (and fresh: see mayChange).
      const adding = event.purpose === 'registration' && state.stage === 'complete';
      if (state.stage !== expected && !adding) throw new GatehouseError('flow_step_not_allowed');
      return {
        stage: 'complete',
        // The marks of how the session got here (a pass, a step-up that wants a passkey) give
        // way to the factor now proved: they are never stated to applications.
        factors: withFactors(
          state.factors.filter((f) => f !== PHISHING_RESISTANT_WANTED && f !== PASS_FACTOR),
          'mfa',
          event.factor,
          ...(event.also ?? []),
        ),
      };
    }
    case 'passkey_accepted': {
      if (state.stage !== 'signed_out') throw new GatehouseError('flow_step_not_allowed');
      return { stage: 'complete', factors: withFactors([...event.factors], 'mfa') };
    }
    case 'pass_accepted':
      if (state.stage !== 'verify_mfa' || !facts.mfaEnabled)
        throw new GatehouseError('flow_step_not_allowed');
      return { stage: 'register_mfa', factors: withFactors(state.factors, PASS_FACTOR) };
    case 'step_up':
      if (state.stage !== 'complete') throw new GatehouseError('flow_step_not_allowed');
      if (facts.activeMethods === 0) throw new GatehouseError('method_not_found');
      // An application or the console that requires a passkey or smartcard marks the step-up, so
      // that only those may answer it.
      return {
        stage: 'verify_mfa',
        factors: [
          ...state.factors.filter((f) => f === 'pwd'),
          ...(event.phishingResistant ? [PHISHING_RESISTANT_WANTED] : []),
        ],
      };
  }
}

/** After the password: straight in, or the MFA registration wizard, or the second factor. */
export function stageAfterPassword(facts: AccountFacts): SessionStage {
  if (!facts.mfaEnabled) return 'complete';
  return facts.activeMethods === 0 ? 'register_mfa' : 'verify_mfa';
}

/**
 * Changes to how an account signs in, which need more than a password: starting to add a method,
 * finishing adding it (its proof is bound to the session that started), and the rest.
 */
export type FactorChange = 'enrol_method' | 'finish_enrolment' | 'change_methods';

/**
 * Whether a session may add a method (`enrol_method`) or remove one, change the default, create an
 * app password or bind a card (`change_methods`). The first registration, in the wizard of a
 * session that passed the password after MFA was enabled (stage `register_mfa`), is the only one
 * allowed without a second factor; otherwise the session must have proved one recently.
 */
export function mayChange(
  change: FactorChange,
  state: FlowState & { freshMfa: boolean },
  facts: AccountFacts,
): void {
  if (state.stage === 'register_mfa') {
    if (change === 'enrol_method' && facts.mfaEnabled && facts.activeMethods === 0) return;
    // A Temporary Access Pass let this session past the second factor to register a new one.
    if (change === 'enrol_method' && facts.mfaEnabled && state.factors.includes(PASS_FACTOR)) return;
    // The method being registered may already be active (the phone approved): its proof is
    // bound to this session, which started it when the account had none.
    if (change === 'finish_enrolment' && facts.mfaEnabled) return;
    throw new GatehouseError('flow_step_not_allowed');
  }
  if (state.stage !== 'complete') throw new GatehouseError('flow_step_not_allowed');
  if (!facts.mfaEnabled) {
    // Methods are registered once MFA is on (the guide's order), so a password alone cannot
    // plant a device that would later approve sign-ins. App passwords are the legacy way in.
    if (change !== 'change_methods') throw new GatehouseError('mfa_not_enabled');
    return;
  }
  // A session that began before MFA was on, or before any method existed, signs in again.
  if (facts.activeMethods === 0 || !state.factors.includes('mfa'))
    throw new GatehouseError(facts.activeMethods === 0 ? 'reauthentication_required' : 'reverify_required');
  if (!state.freshMfa) throw new GatehouseError('reverify_required');
}
