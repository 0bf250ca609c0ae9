import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGatehouseError } from '../../src/core/errors.ts';
import {
  type AccountFacts,
  type FlowEvent,
  type FlowStage,
  mayChange,
  nextState,
} from '../../src/core/sign-in-flow/transitions.ts';

const off: AccountFacts = { mfaEnabled: false, activeMethods: 0 };
const needsMethod: AccountFacts = { mfaEnabled: true, activeMethods: 0 };
const hasMethod: AccountFacts = { mfaEnabled: true, activeMethods: 1 };

const pushSignIn: FlowEvent = { type: 'factor_proven', factor: 'swk', purpose: 'sign_in' };
const pushRegistration: FlowEvent = { type: 'factor_proven', factor: 'swk', purpose: 'registration' };

/** Each starting stage and each action: the next stage and factors, or the error code. */
const table: [FlowStage, string[], FlowEvent, AccountFacts, string][] = [
  ['signed_out', [], { type: 'password_accepted' }, off, 'complete pwd'],
  ['signed_out', [], { type: 'password_accepted' }, needsMethod, 'register_mfa pwd'],
  ['signed_out', [], { type: 'password_accepted' }, hasMethod, 'verify_mfa pwd'],
  ['signed_out', [], { type: 'smartcard_accepted' }, hasMethod, 'complete sc,hwk,mfa'],
  ['signed_out', [], pushSignIn, hasMethod, 'error flow_step_not_allowed'],
  ['signed_out', [], { type: 'signed_out' }, hasMethod, 'error session_expired'],
  ['verify_mfa', ['pwd'], pushSignIn, hasMethod, 'complete pwd,mfa,swk'],
  [
    'verify_mfa',
    ['pwd'],
    { type: 'factor_proven', factor: 'otp', purpose: 'sign_in' },
    hasMethod,
    'complete pwd,mfa,otp',
  ],
  ['verify_mfa', ['pwd'], pushRegistration, hasMethod, 'error flow_step_not_allowed'],
  ['verify_mfa', ['pwd'], { type: 'password_accepted' }, hasMethod, 'error flow_step_not_allowed'],
  ['verify_mfa', ['pwd'], { type: 'step_up' }, hasMethod, 'error flow_step_not_allowed'],
  ['verify_mfa', ['pwd'], { type: 'signed_out' }, hasMethod, 'ended '],
  ['register_mfa', ['pwd'], pushRegistration, needsMethod, 'complete pwd,mfa,swk'],
  [
    'register_mfa',
    ['pwd'],
    { type: 'factor_proven', factor: 'tel', purpose: 'registration' },
    hasMethod,
    'complete pwd,mfa,tel',
  ],
  ['register_mfa', ['pwd'], pushSignIn, hasMethod, 'error flow_step_not_allowed'],
  ['register_mfa', ['pwd'], { type: 'step_up' }, needsMethod, 'error flow_step_not_allowed'],
  ['register_mfa', ['pwd'], { type: 'smartcard_accepted' }, needsMethod, 'error flow_step_not_allowed'],
  ['complete', ['pwd'], { type: 'step_up' }, hasMethod, 'verify_mfa pwd'],
  ['complete', ['pwd', 'mfa', 'swk'], { type: 'step_up' }, hasMethod, 'verify_mfa pwd'],
  ['complete', ['pwd'], { type: 'step_up' }, off, 'error method_not_found'],
  // An application or the console that needs a passkey marks the step-up; the proof replaces it.
  [
    'complete',
    ['pwd', 'mfa', 'otp'],
    { type: 'step_up', phishingResistant: true },
    hasMethod,
    'verify_mfa pwd,phr_wanted',
  ],
  [
    'verify_mfa',
    ['pwd', 'phr_wanted'],
    { type: 'factor_proven', factor: 'hwk', purpose: 'sign_in', also: ['user', 'phr'] },
    hasMethod,
    'complete pwd,mfa,hwk,user,phr',
  ],
  // A Temporary Access Pass only leads to registering: the new method's proof replaces it too.
  ['verify_mfa', ['pwd'], { type: 'pass_accepted' }, hasMethod, 'register_mfa pwd,tap'],
  [
    'register_mfa',
    ['pwd', 'tap'],
    { type: 'factor_proven', factor: 'otp', purpose: 'registration' },
    hasMethod,
    'complete pwd,mfa,otp',
  ],
  ['complete', ['pwd'], pushSignIn, hasMethod, 'error flow_step_not_allowed'],
  [
    'complete',
    ['pwd', 'mfa', 'swk'],
    { type: 'factor_proven', factor: 'otp', purpose: 'registration' },
    hasMethod,
    'complete pwd,mfa,swk,otp',
  ],
  ['complete', ['pwd'], { type: 'password_accepted' }, off, 'error flow_step_not_allowed'],
  ['complete', ['pwd'], { type: 'signed_out' }, off, 'ended '],
  ['ended', [], { type: 'password_accepted' }, off, 'error session_expired'],
  ['ended', [], pushSignIn, hasMethod, 'error session_expired'],
  ['ended', [], { type: 'signed_out' }, hasMethod, 'error session_expired'],
];

const outcome = (run: () => { stage: string; factors: string[] }) => {
  try {
    const next = run();
    return `${next.stage} ${next.factors.join(',')}`;
  } catch (error) {
    if (!isGatehouseError(error)) throw error;
    return `error ${error.code}`;
  }
};

test('the sign-in flow table: each stage and action gives the next stage, or an error code', () => {
  for (const [stage, factors, event, facts, expected] of table) {
    assert.equal(
      outcome(() => nextState({ stage, factors }, event, facts)),
      expected,
      `${stage} [${factors}] + ${JSON.stringify(event)} with ${JSON.stringify(facts)}`,
    );
  }
});

const fresh = (stage: FlowStage, factors: string[], freshMfa: boolean) => ({ stage, factors, freshMfa });

/** Who may change how the account signs in: only the first registration needs no second factor. */
const changes: [ReturnType<typeof fresh>, Parameters<typeof mayChange>[0], AccountFacts, string][] = [
  [fresh('register_mfa', ['pwd'], false), 'enrol_method', needsMethod, 'allowed'],
  [fresh('register_mfa', ['pwd'], false), 'enrol_method', hasMethod, 'error flow_step_not_allowed'],
  [fresh('register_mfa', ['pwd'], false), 'finish_enrolment', hasMethod, 'allowed'],
  [fresh('register_mfa', ['pwd'], false), 'change_methods', needsMethod, 'error flow_step_not_allowed'],
  [fresh('verify_mfa', ['pwd'], false), 'enrol_method', hasMethod, 'error flow_step_not_allowed'],
  // A session opened before MFA was enabled: it signs in again.
  [fresh('complete', ['pwd'], false), 'enrol_method', needsMethod, 'error reauthentication_required'],
  [fresh('complete', ['pwd'], false), 'change_methods', needsMethod, 'error reauthentication_required'],
  // A session opened before a method existed (or one without a second factor): prove one.
  [fresh('complete', ['pwd'], false), 'change_methods', hasMethod, 'error reverify_required'],
  [fresh('complete', ['pwd', 'mfa', 'swk'], false), 'enrol_method', hasMethod, 'error reverify_required'],
  [fresh('complete', ['pwd', 'mfa', 'swk'], true), 'enrol_method', hasMethod, 'allowed'],
  [fresh('complete', ['pwd', 'mfa', 'swk'], true), 'change_methods', hasMethod, 'allowed'],
  [fresh('complete', ['pwd'], false), 'enrol_method', off, 'error mfa_not_enabled'],
  [fresh('complete', ['pwd'], false), 'change_methods', off, 'allowed'],
];

test('the change table: which sessions may add, remove or change methods, else the error code', () => {
  for (const [state, change, facts, expected] of changes) {
    const got = (() => {
      try {
        mayChange(change, state, facts);
        return 'allowed';
      } catch (error) {
        if (!isGatehouseError(error)) throw error;
        return `error ${error.code}`;
      }
    })();
    assert.equal(got, expected, `${JSON.stringify(state)} ${change} ${JSON.stringify(facts)}`);
  }
});
