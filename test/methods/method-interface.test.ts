import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PASSKEY_ATTEMPT_LIMITS } from '../../src/core/methods/passkey/passkey-service.ts';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import type { ActiveSession } from '../../src/core/sessions/session-service.ts';
import type { MethodName } from '../../src/core/sign-in-flow/flow.ts';
import { manualClock } from '../helpers/clock.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import { insertPhone, recordingTelephony } from '../helpers/own-account.ts';
import {
  addUser,
  insertCodeApp,
  passkeysRequiring,
  signedInSession,
  startTestPortal,
  type TestPortal,
} from '../helpers/portal.ts';
import { SoftAuthenticator } from '../helpers/soft-authenticator.ts';
import { TestDevice } from '../helpers/test-device.ts';

const IP = '192.0.2.1';
const ORIGIN = 'https://portal.example.org';
/** Wrong codes per account before further codes are refused (lower than the default, same rule). */
const CODE_LIMIT = 3;

type ChallengeKind = 'totp' | 'authenticator_app' | 'phone' | 'passkey';
type Input = Record<string, unknown>;

/** What a test holds for an account: its email and whatever the method's answers need. */
interface User {
  email: string;
  /** The token of the wizard's session once the registration proved (a complete, fresh session). */
  token: string;
}

/** One challenge begun for one session: how to give it the right answer and a wrong one. */
interface Challenge {
  /** Does what the user does (approves the number, answers the call) and returns finishChallenge's input. */
  right(): Promise<Input>;
  wrong(): Promise<Input>;
}

/** The only method-specific part: how to enrol, and how to answer, rightly and wrongly. */
interface Adapter {
  kind: ChallengeKind;
  /** Enrols in the wizard session with the right answer; returns the user for later sessions. */
  enrolRight(email: string, active: ActiveSession): Promise<{ status: string; token?: string }>;
  /** Tries to enrol with a wrong answer: returns how it ended (an error code, or the outcome's status). */
  enrolWrong(email: string, active: ActiveSession): Promise<string>;
  begin(email: string, active: ActiveSession): Promise<Challenge>;
  /** The audit events that count a wrong answer. */
  failureEvent: string;
  /** Wrong answers before the account is refused, and the error the right answer then meets. */
  limit: { max: number; refusedWith: string } | null;
  /** Whether an answer is bound to the session whose challenge it answers (clause 3). */
  sessionBound: boolean;
  /** The error once the method is removed: at the start of a challenge or at its finish. */
  removedWith: string;
  /** The error a challenge is refused with at its start when the account does not have the method. */
  notRegisteredWith: string;
  /** What startChallenge is given (the same input a real caller gives). */
  startInput: Input;
  /**
   * How each refusal ends (an error code, or `waiting` where the method keeps waiting for the
   * right answer): a wrong enrolment, a wrong answer, another session's answer, a replayed one.
   */
  refused: { enrolment: string; wrong: string; otherSession: string; replayed: string };
}

/** How a finishing step ended, as data: proved, waiting, or the error code. */
async function ended(run: () => Promise<{ status: string }>): Promise<string> {
  try {
    return (await run()).status;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (!code) throw error;
    return code;
  }
}

for (const engine of ENGINES) {
  describe(`the method interface contract (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let portal: TestPortal;
    const clock = manualClock();
    const phone = recordingTelephony();
    let n = 0;

    before(async () => {
      if (!skip)
        portal = await startTestPortal({
          engine,
          clock,
          telephony: phone.telephony,
          settings: {
            codeAttempts: { maxFailures: CODE_LIMIT, windowMinutes: 15, lockMinutes: 15 },
            passkeys: passkeysRequiring([]),
          },
        });
    });
    after(async () => portal?.close());

    const flow = () => portal.core.flow;
    const finish = (active: ActiveSession, kind: MethodName, input: Input) =>
      flow().finishChallenge(active, kind, input as never, IP);
    const eventsOf = async (email: string, type: string) =>
      (await portal.core.audit.list({ email, limit: 1000 })).filter((e) => e.type === type);
    const accountOf = async (email: string) => {
      const account = await portal.core.accounts.find(email);
      assert.ok(account);
      return account;
    };
    const listed = async (email: string, kind: string) =>
      (await portal.core.methods.list(await accountOf(email))).methods.filter((m) => m.kind === kind);
    const stageOf = async (token: string) => (await flow().resume(token, IP))?.session.stage;

    /** A user with MFA on and no method: a session at the registration wizard. */
    async function atWizard() {
      const email = `method.user${++n}-${engine}@example.org`;
      await addUser(portal.core, email);
      await portal.core.enrolment.enable(await accountOf(email), IP);
      const { active, token } = await signedInSession(portal.core, email);
      assert.equal(active.session.stage, 'register_mfa');
      return { email, active, token };
    }

    // --- The adapters: one per method, each knowing a right and a wrong answer. ---

    /** TOTP: the code from the secret; the clock moves a step first, since a step is claimed once. */
    const totpSecrets = new Map<string, string>();
    const nextCode = (secret: string) => {
      clock.advanceMinutes(1);
      return codeAt(secret, clock.now());
    };
    /** A code that matches none of the steps the window accepts now. */
    const wrongCode = (secret: string) => {
      const near = [-30_000, 0, 30_000].map((d) => codeAt(secret, new Date(clock.now().getTime() + d)));
      for (let i = 0; ; i++) {
        const candidate = String(123456 + i * 1111).padStart(6, '0');
        if (!near.includes(candidate)) return candidate;
      }
    };
    const totp: Adapter = {
      kind: 'totp',
      async enrolRight(email, active) {
        const setup = await flow().startEnrolment(active, 'totp', { issuer: 'Gatehouse' }, IP);
        totpSecrets.set(email, setup.secret);
        return flow().finishEnrolment(
          active,
          'totp',
          { issuer: 'Gatehouse', code: nextCode(setup.secret) },
          IP,
        );
      },
      async enrolWrong(_email, active) {
        const setup = await flow().startEnrolment(active, 'totp', { issuer: 'Gatehouse' }, IP);
        return ended(() =>
          flow().finishEnrolment(active, 'totp', { issuer: 'Gatehouse', code: wrongCode(setup.secret) }, IP),
        );
      },
      async begin(email, active) {
        assert.equal(await flow().startChallenge(active, 'totp', {}, IP), null, 'nothing is sent');
        const secret = totpSecrets.get(email);
        assert.ok(secret);
        return {
          right: async () => ({ code: nextCode(secret) }),
          wrong: async () => ({ code: wrongCode(secret) }),
        };
      },
      failureEvent: 'totp.rejected',
      limit: { max: CODE_LIMIT, refusedWith: 'too_many_attempts' },
      // A verification code is read off the app, not sent for a session: any session of the account
      // may type it. What stops its reuse is that each step is claimed once (asserted in clause 3).
      sessionBound: false,
      removedWith: 'method_not_found',
      notRegisteredWith: 'method_not_found',
      startInput: {},
      refused: {
        enrolment: 'invalid_code',
        wrong: 'invalid_code',
        otherSession: 'invalid_code',
        replayed: 'invalid_code',
      },
    };

    /** Push with number matching: the phone (the device API) types the number the PC shows. */
    const devices = new Map<string, TestDevice>();
    const answerWith = async (email: string, requestId: string, number: string) => {
      const device = devices.get(email);
      assert.ok(device);
      const answered = await device.answer(requestId, 'approve', number);
      assert.equal(answered.statusCode, 200, answered.body);
      return (answered.json() as { status: string }).status;
    };
    const otherNumber = (number: string) => String(((Number(number) - 10 + 1) % 90) + 10);
    const push: Adapter = {
      kind: 'authenticator_app',
      async enrolRight(email, active) {
        const number = await scanned(email, active);
        assert.equal(await answerWith(email, number.requestId, number.number), 'approved');
        return flow().finishEnrolment(active, 'authenticator_app', {}, IP);
      },
      async enrolWrong(email, active) {
        const number = await scanned(email, active);
        assert.equal(await answerWith(email, number.requestId, otherNumber(number.number)), 'wrong_number');
        return ended(() => flow().finishEnrolment(active, 'authenticator_app', {}, IP));
      },
      async begin(email, active) {
        // Each answer is to the session's request: the waiting one, or a new one after an answer.
        const request = () =>
          flow().startChallenge(active, 'authenticator_app', { application: 'Gatehouse' }, IP);
        const first = await request();
        assert.ok(first && first.status === 'pending');
        let current: typeof first | undefined = first;
        const next = async () => {
          const r = current ?? (await request());
          current = undefined;
          assert.ok(r);
          return r;
        };
        return {
          async right() {
            const r = await next();
            assert.equal(await answerWith(email, r.id, r.number), 'approved');
            return {};
          },
          async wrong() {
            const r = await next();
            assert.equal(await answerWith(email, r.id, otherNumber(r.number)), 'wrong_number');
            return {};
          },
        };
      },
      failureEvent: 'push.wrong_number',
      // Wrong numbers (and denials) block further pushes for a while (MFA fatigue): default rule.
      limit: { max: 3, refusedWith: 'push_blocked' },
      sessionBound: true,
      removedWith: 'no_push_device',
      notRegisteredWith: 'no_push_device',
      startInput: { application: 'Gatehouse' },
      // The session's own request is looked up, so another's approval leaves it waiting.
      refused: { enrolment: 'waiting', wrong: 'waiting', otherSession: 'waiting', replayed: 'waiting' },
    };
    /** The wizard up to the number: the QR code's activation scanned by a new phone. */
    async function scanned(email: string, active: ActiveSession) {
      const view = await flow().startEnrolment(active, 'authenticator_app', {}, IP);
      assert.equal(view.step, 'waiting_for_scan');
      const device = await TestDevice.create(portal.app, () => clock.now().getTime());
      devices.set(email, device);
      const activated = await device.activate(view.step === 'waiting_for_scan' ? view.code : '');
      assert.equal(activated.statusCode, 200, activated.body);
      const waiting = await flow().finishEnrolment(active, 'authenticator_app', {}, IP);
      assert.equal(waiting.status, 'waiting');
      const state = waiting.status === 'waiting' ? waiting.view : undefined;
      assert.ok(state?.step === 'number' && state.request, 'the PC shows a number');
      assert.deepEqual(await device.pendingIds(), [state.request.id]);
      return { requestId: state.request.id, number: state.request.number };
    }

    /** Phone: the code in the text sent to the user's own number (each user a number of its own). */
    const numbers = new Map<string, string>();
    const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const phoneAdapter: Adapter = {
      kind: 'phone',
      async enrolRight(email, active) {
        const to = await registerNumber(email, active);
        return flow().finishEnrolment(active, 'phone', { code: phone.lastCode(to) }, IP);
      },
      async enrolWrong(email, active) {
        const to = await registerNumber(email, active);
        return ended(() =>
          flow().finishEnrolment(active, 'phone', { code: otherCode(phone.lastCode(to)) }, IP),
        );
      },
      async begin(email, active) {
        const sent = await flow().startChallenge(active, 'phone', { channel: 'sms' }, IP);
        assert.equal(sent?.channel, 'sms');
        const code = phone.lastCode(numbers.get(email));
        return { right: async () => ({ code }), wrong: async () => ({ code: otherCode(code) }) };
      },
      failureEvent: 'phone.failed',
      limit: { max: CODE_LIMIT, refusedWith: 'too_many_attempts' },
      sessionBound: true,
      removedWith: 'method_not_found',
      notRegisteredWith: 'method_not_found',
      startInput: { channel: 'sms' },
      refused: {
        enrolment: 'invalid_code',
        wrong: 'invalid_code',
        otherSession: 'invalid_code',
        replayed: 'invalid_code',
      },
    };
    async function registerNumber(email: string, active: ActiveSession) {
      const national = `07700900${String(n).padStart(3, '0')}`;
      const to = `+44${national.slice(1)}`;
      numbers.set(email, to);
      const view = await flow().startEnrolment(
        active,
        'phone',
        { number: { country: 'GB', number: national, channel: 'sms', office: false } },
        IP,
      );
      assert.equal(view?.channel, 'sms');
      return to;
    }

    /** Passkeys: a software authenticator's assertion for the session's options. */
    const keys = new Map<string, SoftAuthenticator>();
    const passkey: Adapter = {
      kind: 'passkey',
      async enrolRight(email, active) {
        const key = new SoftAuthenticator();
        keys.set(email, key);
        const options = await flow().startEnrolment(active, 'passkey', { origin: ORIGIN }, IP);
        return flow().finishEnrolment(
          active,
          'passkey',
          { origin: ORIGIN, response: key.register(options, ORIGIN), name: 'Security key' },
          IP,
        );
      },
      async enrolWrong(_email, active) {
        // Made for a look-alike site (what a phishing page would relay).
        const options = await flow().startEnrolment(active, 'passkey', { origin: ORIGIN }, IP);
        const response = new SoftAuthenticator().register(options, 'https://portal.example.org.evil.test');
        return ended(() =>
          flow().finishEnrolment(active, 'passkey', { origin: ORIGIN, response, name: 'Fake' }, IP),
        );
      },
      async begin(email, active) {
        const key = keys.get(email);
        assert.ok(key);
        const options = await flow().startChallenge(active, 'passkey', { origin: ORIGIN }, IP);
        return {
          right: async () => ({ origin: ORIGIN, response: key.assert(options, ORIGIN) }),
          wrong: async () => ({
            origin: ORIGIN,
            response: key.assert(options, 'https://portal.example.org.evil.test'),
          }),
        };
      },
      failureEvent: 'passkey.refused',
      // A passkey cannot be guessed, but refused answers are limited per account all the same
      // (counted before each is checked); the answers refused by the limit are not evaluated.
      limit: {
        max: PASSKEY_ATTEMPT_LIMITS.account.maxFailures,
        refusedWith: 'passkey_attempts_throttled',
      },
      sessionBound: true,
      // Its options are refused at once: none would name a passkey of the account.
      removedWith: 'passkey_not_registered',
      notRegisteredWith: 'passkey_not_registered',
      startInput: { origin: ORIGIN },
      refused: {
        enrolment: 'passkey_wrong_site',
        wrong: 'passkey_wrong_site',
        otherSession: 'passkey_challenge_other_session',
        replayed: 'passkey_challenge_other_session',
      },
    };

    /** A user who registered the method in the wizard, with the complete session that did it. */
    async function enrolled(adapter: Adapter): Promise<User> {
      const { email, active } = await atWizard();
      const outcome = await adapter.enrolRight(email, active);
      assert.equal(outcome.status, 'proved');
      assert.ok(outcome.token);
      return { email, token: outcome.token };
    }

    /** A new password sign-in of the user, at the second factor. */
    async function atSecondFactor(email: string) {
      const { active, token } = await signedInSession(portal.core, email);
      assert.equal(active.session.stage, 'verify_mfa');
      return { active, token };
    }

    for (const adapter of [push, totp, phoneAdapter, passkey]) {
      const { kind } = adapter;
      const opts = () => ({ skip: skip ?? false });

      test(
        `${kind}: the right answer enrols it (listed, available); a wrong one adds nothing`,
        opts(),
        async () => {
          const wrong = await atWizard();
          const refused = await adapter.enrolWrong(wrong.email, wrong.active);
          assert.equal(refused, adapter.refused.enrolment);
          assert.deepEqual(await listed(wrong.email, kind), [], 'nothing is listed after a wrong answer');
          assert.equal(await stageOf(wrong.token), 'register_mfa', 'the wizard session did not move');

          const right = await atWizard();
          const outcome = await adapter.enrolRight(right.email, right.active);
          assert.equal(outcome.status, 'proved');
          assert.equal(await stageOf(outcome.token ?? ''), 'complete');
          const methods = await listed(right.email, kind);
          assert.equal(methods.length, 1);
          assert.equal(methods[0]?.status, 'active');
          const { active } = await atSecondFactor(right.email);
          assert.ok((await flow().challengeMethods(active)).includes(kind), 'offered at the next sign-in');
        },
      );

      test(
        `${kind}: a challenge proved completes the session; a wrong answer does not, and is counted`,
        opts(),
        async () => {
          const { email } = await enrolled(adapter);
          const { active, token } = await atSecondFactor(email);
          const challenge = await adapter.begin(email, active);
          const failuresBefore = (await eventsOf(email, adapter.failureEvent)).length;
          const wrong = await ended(async () => finish(active, kind, await challenge.wrong()));
          assert.equal(wrong, adapter.refused.wrong);
          assert.equal(await stageOf(token), 'verify_mfa', 'a wrong answer leaves the session where it was');
          assert.equal(
            (await eventsOf(email, adapter.failureEvent)).length,
            failuresBefore + 1,
            'counted once',
          );

          // Trying again, as the page offers: a new challenge where the method has one per attempt.
          const again = await adapter.begin(email, active);
          const outcome = await finish(active, kind, await again.right());
          assert.equal(outcome.status, 'proved');
          const signedIn = await flow().resume(outcome.status === 'proved' ? outcome.token : '', IP);
          assert.equal(signedIn?.session.stage, 'complete');
          assert.ok(signedIn?.session.factors.includes('mfa'));
          assert.equal(await stageOf(token), undefined, 'the token before the proof is gone');
        },
      );

      if (adapter.limit) {
        const { max, refusedWith } = adapter.limit;
        test(
          `${kind}: after ${max} wrong answers even the right one is refused (${refusedWith})`,
          opts(),
          async () => {
            const { email } = await enrolled(adapter);
            const { active, token } = await atSecondFactor(email);
            const challenge = await adapter.begin(email, active);
            const failuresBefore = (await eventsOf(email, adapter.failureEvent)).length;
            for (let i = 0; i < max; i++) {
              const wrong = await ended(async () => finish(active, kind, await challenge.wrong()));
              assert.notEqual(wrong, 'proved');
            }
            assert.equal(
              (await eventsOf(email, adapter.failureEvent)).length,
              failuresBefore + max,
              `${max} wrong answers evaluated`,
            );
            await assert.rejects(async () => finish(active, kind, await challenge.right()), {
              code: refusedWith,
            });
            assert.equal(
              (await eventsOf(email, adapter.failureEvent)).length,
              failuresBefore + max,
              'the refused answer was not evaluated',
            );
            assert.equal(await stageOf(token), 'verify_mfa');
          },
        );
      } else {
        test(`${kind}: has no limit on wrong answers, but refuses and audits each one`, opts(), async () => {
          const { email } = await enrolled(adapter);
          const { active, token } = await atSecondFactor(email);
          const challenge = await adapter.begin(email, active);
          const failuresBefore = (await eventsOf(email, adapter.failureEvent)).length;
          for (let i = 0; i < CODE_LIMIT + 1; i++)
            assert.notEqual(await ended(async () => finish(active, kind, await challenge.wrong())), 'proved');
          assert.equal((await eventsOf(email, adapter.failureEvent)).length, failuresBefore + CODE_LIMIT + 1);
          assert.equal(await stageOf(token), 'verify_mfa');
          // Still usable by its owner: a fresh challenge proves.
          const fresh = await adapter.begin(email, active);
          assert.equal((await finish(active, kind, await fresh.right())).status, 'proved');
        });
      }

      test(`${kind}: an answer belongs to its session`, opts(), async () => {
        const { email } = await enrolled(adapter);
        const a = await atSecondFactor(email);
        const b = await atSecondFactor(email);
        const challengeA = await adapter.begin(email, a.active);
        await adapter.begin(email, b.active);
        const answerA = await challengeA.right();
        if (adapter.sessionBound) {
          const stolen = await ended(() => finish(b.active, kind, answerA));
          assert.equal(stolen, adapter.refused.otherSession, "A's answer does not prove B");
          assert.equal(await stageOf(b.token), 'verify_mfa');
          const own = await finish(a.active, kind, answerA);
          assert.equal(own.status, 'proved', 'and it still proves A');
        } else {
          // TOTP: a code is not issued for a session, so whichever session types it first is
          // proved (B here); the step is then claimed, and the same code in A is refused.
          const first = await finish(b.active, kind, answerA);
          assert.equal(first.status, 'proved');
          await assert.rejects(finish(a.active, kind, answerA), { code: 'invalid_code' });
          assert.equal(await stageOf(a.token), 'verify_mfa');
        }
      });

      test(`${kind}: an answer is used once`, opts(), async () => {
        const { email } = await enrolled(adapter);
        const a = await atSecondFactor(email);
        const challenge = await adapter.begin(email, a.active);
        const answer = await challenge.right();
        const both = await Promise.all([1, 2].map(() => ended(() => finish(a.active, kind, answer))));
        assert.equal(
          both.filter((s) => s === 'proved').length,
          1,
          `exactly one of ${both.join(', ')} proves`,
        );
        // The same answer again, in a new session with a challenge of its own, proves nothing.
        const c = await atSecondFactor(email);
        await adapter.begin(email, c.active);
        assert.equal(await ended(() => finish(c.active, kind, answer)), adapter.refused.replayed);
        assert.equal(await stageOf(c.token), 'verify_mfa');
      });

      test(
        `${kind}: a challenge for it is refused at its start when the account does not have it`,
        opts(),
        async () => {
          // A user with another method only: a code app, or (for codes) a passkey.
          const { email } = await enrolled(kind === 'totp' ? passkey : totp);
          const { active, token } = await atSecondFactor(email);
          assert.ok(!(await flow().challengeMethods(active)).includes(kind), 'not offered');
          await assert.rejects(flow().startChallenge(active, kind, adapter.startInput as never, IP), {
            code: adapter.notRegisteredWith,
          });
          assert.equal(await stageOf(token), 'verify_mfa');
        },
      );

      test(`${kind}: once removed it is not listed and a challenge for it is refused`, opts(), async () => {
        const { email, token } = await enrolled(adapter);
        const account = await accountOf(email);
        // Another method first: the last one cannot be removed while MFA is on.
        if (kind === 'totp') await insertPhone(portal.store, account.id, '+447700900999');
        else await insertCodeApp(portal.store, account.id);
        const active = await flow().resume(token, IP);
        assert.ok(active);
        const [method] = await listed(email, kind);
        assert.ok(method);
        await flow().removeMethod(active, kind, method.id, IP);
        assert.deepEqual(await listed(email, kind), []);
        assert.equal((await eventsOf(email, 'method.removed')).length, 1);
        const next = await atSecondFactor(email);
        assert.ok(!(await flow().challengeMethods(next.active)).includes(kind));
        await assert.rejects(
          async () => {
            const challenge = await adapter.begin(email, next.active);
            return finish(next.active, kind, await challenge.right());
          },
          { code: adapter.removedWith },
        );
        assert.equal(await stageOf(next.token), 'verify_mfa');
      });
    }

    for (const kind of ['app_password', 'smartcard'] as const) {
      test(`${kind}: has no challenge halves (method_step_not_supported)`, {
        skip: skip ?? false,
      }, async () => {
        const { email } = await enrolled(totp);
        const { active, token } = await atSecondFactor(email);
        assert.ok(!(await flow().challengeMethods(active)).includes(kind as never));
        await assert.rejects(flow().startChallenge(active, kind, {} as never, IP), {
          code: 'method_step_not_supported',
        });
        await assert.rejects(flow().finishChallenge(active, kind, {} as never, IP), {
          code: 'method_step_not_supported',
        });
        assert.equal(await stageOf(token), 'verify_mfa');
      });
    }
  });
}
