import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { noticeMessage } from '../../src/channels/mail/notice-words.ts';
import { type GatehouseError, isGatehouseError } from '../../src/core/errors.ts';
import { isPhishingResistant } from '../../src/core/methods/passkey/factors.ts';
import { PASSKEY_ATTEMPT_LIMITS } from '../../src/core/methods/passkey/passkey-service.ts';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import type { Notice } from '../../src/core/model.ts';
import { PASSKEY_OPTIONS_LIMIT } from '../../src/core/sign-in-flow/flow.ts';
import { ACR_MFA, acrFor } from '../../src/oidc/acr.ts';
import { messageFor } from '../../src/web/messages.ts';
import { manualClock } from '../helpers/clock.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import {
  addUser,
  insertCodeApp,
  passkeysRequiring,
  signedInSession,
  startTestPortal,
  type TestPortal,
} from '../helpers/portal.ts';
import { SoftAuthenticator } from '../helpers/soft-authenticator.ts';
import { attacker, BURST, outcomes, tally } from '../limits/burst.ts';

const IP = '192.0.2.1';
const ORIGIN = 'https://portal.example.org';

/** The passkey method through the sign-in flow on each engine: adding, signing in, and every attack refused. */
for (const engine of ENGINES) {
  describe(`passkeys (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let portal: TestPortal;
    let n = 0;

    before(async () => {
      if (!skip)
        portal = await startTestPortal({
          engine,
          settings: {
            passkeys: passkeysRequiring(['console operators']),
          },
        });
    });
    after(async () => portal?.close());

    const eventsOf = async (email: string, type: string) =>
      (await portal.core.audit.list({ email, limit: 1000 })).filter((e) => e.type === type);

    /** A user with MFA on who registers a passkey in the wizard (no other method yet). */
    async function userWithPasskey(key = new SoftAuthenticator(), groups: string[] = []) {
      const email = `passkey.user${++n}@example.org`;
      await addUser(portal.core, email, { groups });
      const account = await portal.core.accounts.find(email);
      assert.ok(account);
      await portal.core.enrolment.enable(account, IP);
      const { active } = await signedInSession(portal.core, email);
      assert.equal(active.session.stage, 'register_mfa');
      const options = await portal.core.flow.startEnrolment(active, 'passkey', { origin: ORIGIN }, IP);
      assert.equal(options.rp.id, 'portal.example.org');
      assert.equal(options.authenticatorSelection?.userVerification, 'required');
      assert.equal(options.attestation, 'none');
      const outcome = await portal.core.flow.finishEnrolment(
        active,
        'passkey',
        { origin: ORIGIN, response: key.register(options, ORIGIN), name: 'My security key' },
        IP,
      );
      assert.equal(outcome.status, 'proved');
      return { email, key, token: outcome.status === 'proved' ? outcome.token : '' };
    }

    /** A password sign-in at the second factor, with the passkey options it asked for. */
    async function atSecondFactor(email: string) {
      const { active } = await signedInSession(portal.core, email);
      assert.equal(active.session.stage, 'verify_mfa');
      const options = await portal.core.flow.startChallenge(active, 'passkey', { origin: ORIGIN }, IP);
      return { active, options };
    }

    const refusedWith = async (email: string, code: string, run: () => Promise<unknown>) => {
      const before = (await eventsOf(email, 'passkey.refused')).length;
      await assert.rejects(run(), { code });
      const refusals = await eventsOf(email, 'passkey.refused');
      assert.equal(refusals.length, before + 1, `${code} is audited`);
      assert.equal(refusals[0]?.detail?.reason, code);
    };

    test('adds a passkey in the wizard: the session counts as MFA and phishing-resistant', {
      skip: skip ?? false,
    }, async () => {
      const { email, token } = await userWithPasskey();
      const active = await portal.core.flow.resume(token, IP);
      assert.equal(active?.session.stage, 'complete');
      assert.deepEqual(active?.session.factors.sort(), ['hwk', 'mfa', 'phr', 'pwd', 'user']);
      assert.equal(acrFor(active?.session.factors ?? []), ACR_MFA);
      assert.ok(active && portal.core.flow.isPhishingResistant(active));
      const listed = await portal.core.methods.list(active!.account);
      assert.deepEqual(
        listed.methods.map((m) => [m.kind, m.label]),
        [['passkey', 'My security key']],
      );
      assert.equal((await eventsOf(email, 'passkey.registered')).length, 1);
    });

    test('signs in with a passkey as the second factor (a platform one proves swk)', {
      skip: skip ?? false,
    }, async () => {
      const { email, key } = await userWithPasskey(new SoftAuthenticator('platform'));
      const { active, options } = await atSecondFactor(email);
      assert.deepEqual(await portal.core.flow.challengeMethods(active), ['passkey']);
      assert.equal(options.userVerification, 'required');
      assert.deepEqual(
        options.allowCredentials?.map((c) => c.id),
        key.ids,
      );
      const outcome = await portal.core.flow.finishChallenge(
        active,
        'passkey',
        { origin: ORIGIN, response: key.assert(options, ORIGIN) },
        IP,
      );
      assert.equal(outcome.status, 'proved');
      const signedIn = await portal.core.flow.resume(outcome.status === 'proved' ? outcome.token : '', IP);
      assert.deepEqual(signedIn?.session.factors.sort(), ['mfa', 'phr', 'pwd', 'swk', 'user']);
      const [method] = (await portal.core.methods.list(signedIn!.account)).methods;
      assert.ok(method?.lastUsedAt, 'last used is shown');
      assert.equal((await eventsOf(email, 'passkey.accepted')).length, 1);
    });

    test('challenges asked before sign-in are counted per address first: of 200 at once, 30 are made', {
      skip: skip ?? false,
    }, async () => {
      const address = '198.51.100.99';
      const asked = await Promise.allSettled(
        Array.from({ length: 200 }, () =>
          portal.core.flow.startPasskeySignIn(portal.core.passkeys.newState(), ORIGIN, address),
        ),
      );
      const made = asked.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{
        challenge: string;
      }>[];
      assert.equal(made.length, PASSKEY_OPTIONS_LIMIT.maxFailures);
      assert.ok(
        asked.every(
          (r) => r.status === 'fulfilled' || isGatehouseError(r.reason, 'passkey_requests_throttled'),
        ),
      );
      const stored = await Promise.all(
        made.map((r) => portal.store.passkeys.findChallenge(r.value.challenge)),
      );
      assert.equal(stored.filter(Boolean).length, made.length, 'a stored row for each challenge made');
      // Another address is not held up.
      await portal.core.flow.startPasskeySignIn(portal.core.passkeys.newState(), ORIGIN, '198.51.100.98');
    });

    test('signs in with a discoverable passkey without the email or password', {
      skip: skip ?? false,
    }, async () => {
      const { email, key } = await userWithPasskey();
      const state = portal.core.passkeys.newState();
      const options = await portal.core.flow.startPasskeySignIn(state, ORIGIN, '192.0.2.50');
      assert.deepEqual(options.allowCredentials ?? [], [], 'no account is named before sign-in');
      const { token, account } = await portal.core.flow.signInWithPasskey({
        state,
        origin: ORIGIN,
        response: key.assert(options, ORIGIN),
        clientAddress: IP,
        returnTo: null,
      });
      assert.equal(account.email, email);
      const active = await portal.core.flow.resume(token, IP);
      assert.equal(active?.session.stage, 'complete');
      assert.deepEqual(active?.session.factors.sort(), ['hwk', 'mfa', 'phr', 'user']);
      assert.ok(isPhishingResistant(active?.session.factors ?? []));
    });

    test('refuses a challenge used twice, also when both answers arrive at once', {
      skip: skip ?? false,
    }, async () => {
      const { email, key } = await userWithPasskey();
      const { active, options } = await atSecondFactor(email);
      const response = key.assert(options, ORIGIN);
      const answers = await Promise.allSettled(
        [1, 2, 3].map(() =>
          portal.core.flow.finishChallenge(active, 'passkey', { origin: ORIGIN, response }, IP),
        ),
      );
      assert.equal(answers.filter((a) => a.status === 'fulfilled').length, 1, 'exactly one wins');
      for (const a of answers.filter((a) => a.status === 'rejected'))
        assert.ok(
          ['passkey_challenge_used', 'session_expired', 'flow_step_not_allowed'].includes(
            (a as PromiseRejectedResult).reason.code,
          ),
        );
      // The same answer again, in a new session at the second factor, is refused too.
      const again = await atSecondFactor(email);
      await refusedWith(email, 'passkey_challenge_other_session', () =>
        portal.core.flow.finishChallenge(again.active, 'passkey', { origin: ORIGIN, response }, IP),
      );
      // And in the session that asked for the new challenge, an answer reused refuses as used.
      const fresh = key.assert(again.options, ORIGIN);
      const first = await portal.core.flow.finishChallenge(
        again.active,
        'passkey',
        { origin: ORIGIN, response: fresh },
        IP,
      );
      assert.equal(first.status, 'proved');
      const third = await atSecondFactor(email);
      const replayed = key.assert(third.options, ORIGIN);
      await portal.core.flow.finishChallenge(
        third.active,
        'passkey',
        { origin: ORIGIN, response: replayed },
        IP,
      );
      const fourth = await atSecondFactor(email);
      await refusedWith(email, 'passkey_challenge_other_session', () =>
        portal.core.flow.finishChallenge(
          fourth.active,
          'passkey',
          { origin: ORIGIN, response: replayed },
          IP,
        ),
      );
    });

    test('refuses an answer replayed to the session whose challenge it already used', {
      skip: skip ?? false,
    }, async () => {
      const { email, key } = await userWithPasskey();
      const state = portal.core.passkeys.newState();
      const options = await portal.core.flow.startPasskeySignIn(state, ORIGIN, '192.0.2.50');
      const response = key.assert(options, ORIGIN);
      const input = { state, origin: ORIGIN, response, clientAddress: IP, returnTo: null };
      await portal.core.flow.signInWithPasskey(input);
      await refusedWith(email, 'passkey_challenge_used', () => portal.core.flow.signInWithPasskey(input));
    });

    test('refuses a challenge that another session asked for', { skip: skip ?? false }, async () => {
      const { email, key } = await userWithPasskey();
      const victim = await atSecondFactor(email);
      const attacker = await atSecondFactor(email);
      const response = key.assert(victim.options, ORIGIN);
      await refusedWith(email, 'passkey_challenge_other_session', () =>
        portal.core.flow.finishChallenge(attacker.active, 'passkey', { origin: ORIGIN, response }, IP),
      );
    });

    test('refuses an assertion made for another origin or another RP ID', {
      skip: skip ?? false,
    }, async () => {
      const { email, key } = await userWithPasskey();
      const phished = await atSecondFactor(email);
      await refusedWith(email, 'passkey_wrong_site', () =>
        portal.core.flow.finishChallenge(
          phished.active,
          'passkey',
          { origin: ORIGIN, response: key.assert(phished.options, 'https://portal.example.org.evil.test') },
          IP,
        ),
      );
      const otherRp = await atSecondFactor(email);
      await refusedWith(email, 'passkey_wrong_site', () =>
        portal.core.flow.finishChallenge(
          otherRp.active,
          'passkey',
          { origin: ORIGIN, response: key.assert(otherRp.options, ORIGIN, { rpId: 'evil.test' }) },
          IP,
        ),
      );
    });

    test('refuses a cloned authenticator whose counter goes backwards', { skip: skip ?? false }, async () => {
      const { email, key } = await userWithPasskey();
      const clone = key.clone();
      for (let i = 0; i < 2; i++) {
        const { active, options } = await atSecondFactor(email);
        const ok = await portal.core.flow.finishChallenge(
          active,
          'passkey',
          { origin: ORIGIN, response: key.assert(options, ORIGIN) },
          IP,
        );
        assert.equal(ok.status, 'proved');
      }
      const { active, options } = await atSecondFactor(email);
      await refusedWith(email, 'passkey_cloned', () =>
        portal.core.flow.finishChallenge(
          active,
          'passkey',
          { origin: ORIGIN, response: clone.assert(options, ORIGIN) },
          IP,
        ),
      );
    });

    test('refuses the passkey of another user', { skip: skip ?? false }, async () => {
      const alice = await userWithPasskey();
      const mallory = await userWithPasskey();
      const { active, options } = await atSecondFactor(alice.email);
      await refusedWith(alice.email, 'passkey_other_account', () =>
        portal.core.flow.finishChallenge(
          active,
          'passkey',
          { origin: ORIGIN, response: mallory.key.assert(options, ORIGIN) },
          IP,
        ),
      );
    });

    test('refuses a removed passkey, and one without user verification', {
      skip: skip ?? false,
    }, async () => {
      const { email, key, token } = await userWithPasskey();
      const active = await portal.core.flow.resume(token, IP);
      assert.ok(active);
      await insertCodeApp(portal.store, active.account.id);
      const noUv = await atSecondFactor(email);
      await refusedWith(email, 'passkey_rejected', () =>
        portal.core.flow.finishChallenge(
          noUv.active,
          'passkey',
          { origin: ORIGIN, response: key.assert(noUv.options, ORIGIN, { uv: false }) },
          IP,
        ),
      );
      const fresh = await signedInSession(portal.core, email);
      const options = await portal.core.flow.startChallenge(fresh.active, 'passkey', { origin: ORIGIN }, IP);
      const passkey = (await portal.core.methods.list(fresh.active.account)).methods.find(
        (m) => m.kind === 'passkey',
      );
      assert.ok(passkey);
      await portal.core.methods.remove(fresh.active.account, passkey.id, IP);
      await refusedWith(email, 'passkey_not_recognised', () =>
        portal.core.flow.finishChallenge(
          fresh.active,
          'passkey',
          { origin: ORIGIN, response: key.assert(options, ORIGIN) },
          IP,
        ),
      );
    });

    test('an operator can require a phishing-resistant method for a group: other methods are refused', {
      skip: skip ?? false,
    }, async () => {
      const { email } = await userWithPasskey(new SoftAuthenticator(), ['console operators']);
      const account = await portal.core.accounts.find(email);
      assert.ok(account);
      const { secret } = await insertCodeApp(portal.store, account.id);
      const { active } = await signedInSession(portal.core, email);
      assert.ok(portal.core.flow.phishingResistantRequired(active.account));
      assert.deepEqual(await portal.core.flow.challengeMethods(active), ['passkey']);
      await assert.rejects(
        portal.core.flow.finishChallenge(active, 'totp', { code: codeAt(secret, new Date()) }, IP),
        { code: 'phishing_resistant_required' },
      );
    });
  });
}

/**
 * The limits on refused passkey answers (PASSKEY_ATTEMPT_LIMITS), and what a cloned passkey
 * does, on each engine. "Evaluated" means the answer's challenge was claimed (the first check;
 * a refused answer past it reaches the signature check); the limits count before that.
 */
for (const engine of ENGINES) {
  describe(`passkey attempt limits and suspension (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    const clock = manualClock();
    const { account: perAccount, client: perClient } = PASSKEY_ATTEMPT_LIMITS;
    let portal: TestPortal;
    let n = 0;

    before(async () => {
      if (!skip)
        // The default passkey settings (nobody is required a phishing-resistant method).
        portal = await startTestPortal({ engine, clock });
    });
    after(async () => portal?.close());

    const eventsOf = async (email: string | null, type: string) =>
      (await portal.core.audit.list({ limit: 100_000 })).filter(
        (e) => e.type === type && (email === null || e.email === email),
      );
    /** How many of these challenges were claimed: their answers were evaluated. */
    const claimed = async (options: { challenge: string }[]) =>
      (await Promise.all(options.map((o) => portal.store.passkeys.findChallenge(o.challenge)))).filter(
        (c) => c?.usedAt,
      ).length;
    const lockEnds = () => clock.advanceMinutes(perAccount.lockMinutes + 1);

    async function userWithPasskey() {
      const key = new SoftAuthenticator();
      const email = `passkey.limits${++n}-${engine}@example.org`;
      await addUser(portal.core, email);
      const account = await portal.core.accounts.find(email);
      assert.ok(account);
      await portal.core.enrolment.enable(account, IP);
      const { active } = await signedInSession(portal.core, email);
      const options = await portal.core.flow.startEnrolment(active, 'passkey', { origin: ORIGIN }, IP);
      const outcome = await portal.core.flow.finishEnrolment(
        active,
        'passkey',
        { origin: ORIGIN, response: key.register(options, ORIGIN), name: 'Blue security key' },
        IP,
      );
      assert.equal(outcome.status, 'proved');
      return { email, key, account };
    }

    /** `Sign in with a passkey` begun in BURST browsers (each from an address of its own). */
    const passwordlessStarts = (count: number) =>
      Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const state = portal.core.passkeys.newState();
          const options = await portal.core.flow.startPasskeySignIn(state, ORIGIN, attacker(i));
          return { state, options };
        }),
      );
    const passwordless = (state: string, response: unknown, clientAddress: string) =>
      portal.core.flow.signInWithPasskey({
        state,
        origin: ORIGIN,
        response: response as never,
        clientAddress,
        returnTo: null,
      });

    test(`second factor: of ${BURST} wrong answers at once, ${perAccount.maxFailures} are evaluated; the rest, then the right one, are refused unchecked`, {
      skip: skip ?? false,
    }, async () => {
      const { email, key } = await userWithPasskey();
      const { active } = await signedInSession(portal.core, email);
      const options = await Promise.all(
        Array.from({ length: BURST }, () =>
          portal.core.flow.startChallenge(active, 'passkey', { origin: ORIGIN }, IP),
        ),
      );
      // Signed by the real key, without user verification: refused at the signature check.
      const codes = await outcomes(
        options.map((o) =>
          portal.core.flow.finishChallenge(
            active,
            'passkey',
            { origin: ORIGIN, response: key.assert(o, ORIGIN, { uv: false }) },
            IP,
          ),
        ),
      );
      const evaluated = await claimed(options);
      console.log(
        `# ${engine}: ${BURST} parallel wrong answers at the second factor, ${evaluated} evaluated`,
      );
      assert.equal(evaluated, perAccount.maxFailures, JSON.stringify(tally(codes)));
      assert.deepEqual(tally(codes), {
        passkey_rejected: perAccount.maxFailures,
        passkey_attempts_throttled: BURST - perAccount.maxFailures,
      });
      assert.equal((await eventsOf(email, 'passkey.refused')).length, perAccount.maxFailures);
      const throttled = await eventsOf(email, 'passkey.throttled');
      assert.equal(throttled.length, BURST - perAccount.maxFailures, 'each refusal by the limit is audited');
      assert.ok(throttled.every((e) => e.detail.scope === 'account'));

      // The right answer now is refused too, unchecked, with when to try again.
      const right = await portal.core.flow.startChallenge(active, 'passkey', { origin: ORIGIN }, IP);
      await assert.rejects(
        portal.core.flow.finishChallenge(
          active,
          'passkey',
          { origin: ORIGIN, response: key.assert(right, ORIGIN) },
          IP,
        ),
        (error: GatehouseError) => {
          assert.equal(error.code, 'passkey_attempts_throttled');
          const wait = (error.details.until as Date).getTime() - clock.now().getTime();
          assert.equal(wait, perAccount.lockMinutes * 60_000);
          assert.equal(
            messageFor(error, clock.now()),
            `Too many passkey attempts. Try again in ${perAccount.lockMinutes} minutes, or choose a different method.`,
          );
          return true;
        },
      );
      assert.equal(await claimed([right]), 0, 'not evaluated');

      lockEnds();
      const later = await portal.core.flow.startChallenge(active, 'passkey', { origin: ORIGIN }, IP);
      const outcome = await portal.core.flow.finishChallenge(
        active,
        'passkey',
        { origin: ORIGIN, response: key.assert(later, ORIGIN) },
        IP,
      );
      assert.equal(outcome.status, 'proved', 'once the lock ends, the right answer proves');
    });

    test(`before sign-in: of ${BURST} answers at once from one address by an unknown passkey, ${perClient.maxFailures} are evaluated`, {
      skip: skip ?? false,
    }, async () => {
      lockEnds();
      const address = '198.51.100.7';
      const stranger = new SoftAuthenticator();
      stranger.register(strangerOptions(), ORIGIN);
      const starts = await passwordlessStarts(BURST);
      const codes = await outcomes(
        starts.map(({ state, options }) => passwordless(state, stranger.assert(options, ORIGIN), address)),
      );
      const evaluated = await claimed(starts.map((s) => s.options));
      console.log(`# ${engine}: ${BURST} parallel unknown passkeys from one address, ${evaluated} evaluated`);
      assert.equal(evaluated, perClient.maxFailures, JSON.stringify(tally(codes)));
      assert.deepEqual(tally(codes), {
        passkey_not_recognised: perClient.maxFailures,
        passkey_attempts_throttled: BURST - perClient.maxFailures,
      });
      const throttled = (await eventsOf(null, 'passkey.throttled')).filter(
        (e) => e.clientAddress === address,
      );
      assert.equal(throttled.length, BURST - perClient.maxFailures);
      assert.ok(throttled.every((e) => e.detail.scope === 'client'));

      // The address is locked for everyone's passkeys; another address is not held up.
      const { email, key } = await userWithPasskey();
      const [mine, other] = await passwordlessStarts(2);
      assert.ok(mine && other);
      await assert.rejects(passwordless(mine.state, key.assert(mine.options, ORIGIN), address), {
        code: 'passkey_attempts_throttled',
      });
      const { account } = await passwordless(other.state, key.assert(other.options, ORIGIN), '198.51.100.8');
      assert.equal(account.email, email);
    });

    test(`before sign-in: of ${BURST} wrong answers at once by one user's passkey from ${BURST} addresses, ${perAccount.maxFailures} are evaluated; the owner is then refused too`, {
      skip: skip ?? false,
    }, async () => {
      lockEnds();
      const { email, key } = await userWithPasskey();
      const starts = await passwordlessStarts(BURST);
      const codes = await outcomes(
        starts.map(({ state, options }, i) =>
          passwordless(state, key.assert(options, ORIGIN, { uv: false }), attacker(i)),
        ),
      );
      const evaluated = await claimed(starts.map((s) => s.options));
      console.log(`# ${engine}: ${BURST} parallel wrong answers naming one passkey, ${evaluated} evaluated`);
      assert.equal(evaluated, perAccount.maxFailures, JSON.stringify(tally(codes)));
      assert.deepEqual(tally(codes), {
        passkey_rejected: perAccount.maxFailures,
        passkey_attempts_throttled: BURST - perAccount.maxFailures,
      });
      assert.equal((await eventsOf(email, 'passkey.refused')).length, perAccount.maxFailures);
      assert.equal((await eventsOf(email, 'passkey.throttled')).length, BURST - perAccount.maxFailures);

      // The owner's account is counted, whichever way the passkey is used.
      const [again] = await passwordlessStarts(1);
      assert.ok(again);
      await assert.rejects(passwordless(again.state, key.assert(again.options, ORIGIN), IP), {
        code: 'passkey_attempts_throttled',
      });
      const { active } = await signedInSession(portal.core, email);
      const options = await portal.core.flow.startChallenge(active, 'passkey', { origin: ORIGIN }, IP);
      await assert.rejects(
        portal.core.flow.finishChallenge(
          active,
          'passkey',
          { origin: ORIGIN, response: key.assert(options, ORIGIN) },
          IP,
        ),
        { code: 'passkey_attempts_throttled' },
      );
      assert.equal(await claimed([again.options, options]), 0);

      lockEnds();
      const [after] = await passwordlessStarts(1);
      assert.ok(after);
      const signedIn = await passwordless(after.state, key.assert(after.options, ORIGIN), IP);
      assert.equal(signedIn.account.email, email, 'once the lock ends, the owner signs in');
    });

    test('a cloned passkey is suspended, audited and its owner told; it no longer signs in', {
      skip: skip ?? false,
    }, async () => {
      lockEnds();
      const { email, key, account } = await userWithPasskey();
      const clone = key.clone();
      for (let i = 0; i < 2; i++) {
        const [start] = await passwordlessStarts(1);
        assert.ok(start);
        await passwordless(start.state, key.assert(start.options, ORIGIN), IP);
      }
      // The clone's counter is behind the original's: refused, and the passkey suspended.
      const { active } = await signedInSession(portal.core, email);
      const options = await portal.core.flow.startChallenge(active, 'passkey', { origin: ORIGIN }, IP);
      await assert.rejects(
        portal.core.flow.finishChallenge(
          active,
          'passkey',
          { origin: ORIGIN, response: clone.assert(options, ORIGIN) },
          IP,
        ),
        { code: 'passkey_cloned' },
      );
      const [method] = (await portal.store.methods.listForAccount(account.id)).filter(
        (m) => m.kind === 'passkey',
      );
      assert.equal(method?.status, 'suspended');
      const suspended = await eventsOf(email, 'passkey.suspended');
      assert.equal(suspended.length, 1);
      assert.equal(suspended[0]?.detail.reason, 'passkey_cloned');
      assert.equal(suspended[0]?.detail.method, method?.id);
      assert.deepEqual([suspended[0]?.detail.stored, suspended[0]?.detail.presented], [2, 1]);
      const notices = (await portal.store.notices.listForEmail(email)).filter(
        (x) => x.kind === 'method_suspended',
      );
      assert.equal(notices.length, 1, 'a security notice is queued');
      const mail = noticeMessage(
        notices[0] as Notice,
        'Example NHS Trust',
        'contact your IT service desk at once',
      );
      assert.equal(mail.subject, 'Example NHS Trust: A sign-in method on your account was suspended');
      assert.match(
        mail.text,
        /\(Blue security key\) on your account was suspended because it may have been copied/,
      );

      // Later uses of it, by the original key too, are refused as not recognised.
      const [start] = await passwordlessStarts(1);
      assert.ok(start);
      await assert.rejects(passwordless(start.state, key.assert(start.options, ORIGIN), IP), {
        code: 'passkey_not_recognised',
      });
      // At the next sign-in it is not offered, and not asked for; the password alone does not
      // reopen registration (the suspended passkey still counts as registered).
      const next = await signedInSession(portal.core, email);
      assert.equal(next.active.session.stage, 'verify_mfa');
      assert.deepEqual(await portal.core.flow.challengeMethods(next.active), []);
      await assert.rejects(portal.core.flow.startChallenge(next.active, 'passkey', { origin: ORIGIN }, IP), {
        code: 'passkey_not_registered',
      });
      assert.equal((await eventsOf(email, 'passkey.suspended')).length, 1, 'suspended once');

      // Security info shows it as suspended; it can be removed once another method signs in.
      const now = (await portal.core.accounts.find(email))!;
      assert.equal(now.mfaEnabled, true);
      const listed = (await portal.core.methods.list(now)).methods;
      assert.deepEqual(
        listed.map((m) => [m.kind, m.status]),
        [['passkey', 'suspended']],
      );
      await assert.rejects(portal.core.methods.remove(now, method!.id, IP), { code: 'last_method' });
      await insertCodeApp(portal.store, account.id);
      await portal.core.methods.remove(now, method!.id, IP);
      assert.deepEqual(
        (await portal.core.methods.list(now)).methods.map((m) => m.kind),
        ['totp'],
      );
    });

    /** Creation options for a passkey of an account this portal does not have (never registered). */
    const strangerOptions = () =>
      ({
        rp: { id: 'portal.example.org', name: 'Gatehouse' },
        user: { id: 'c3RyYW5nZXI', name: 'stranger', displayName: 'stranger' },
        challenge: 'c3RyYW5nZXI',
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
      }) as never;
  });
}
