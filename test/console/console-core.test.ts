import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CLI_ACTOR } from '../../src/core/console/actor.ts';
import { isGatehouseError } from '../../src/core/index.ts';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import { manualClock } from '../helpers/clock.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import {
  addUser,
  openTestSession,
  registerCodeApp,
  startTestPortal,
  TEST_PASSWORD,
  type TestPortal,
} from '../helpers/portal.ts';

const IP = '192.0.2.9';
const reason = 'lost phone, ticket 1234';

/** The console's core functions on each engine: what they write, and what they refuse to. */
for (const engine of ENGINES) {
  describe(`operator console core (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let portal: TestPortal;
    const clock = manualClock();
    let n = 0;

    before(async () => {
      if (!skip) portal = await startTestPortal({ engine, clock });
    });
    after(async () => portal?.close());

    /** A user with MFA and a code app, who lost the phone: signed in with the password only. */
    async function userWithMethod() {
      const email = `lost.phone${++n}@example.org`;
      await addUser(portal.core, email, { displayName: `Lost Phone${n}` });
      await registerCodeApp(portal.core, email, () => clock.now());
      const account = await portal.core.accounts.find(email);
      assert.ok(account);
      return { email, account };
    }

    const atVerification = async (
      account: NonNullable<Awaited<ReturnType<TestPortal['core']['accounts']['find']>>>,
    ) => {
      const token = await openTestSession(portal.store, account, 'verify_mfa');
      const active = await portal.core.flow.resume(token, IP);
      assert.ok(active);
      return active;
    };

    const eventsOf = async (email: string, type: string) =>
      (await portal.core.audit.list({ email, limit: 1000 })).filter((e) => e.type === type);

    test('a pass lets the user only register a new method, then is spent', {
      skip: skip ?? false,
    }, async () => {
      const { email, account } = await userWithMethod();
      const { pass } = await portal.core.console.issuePass(CLI_ACTOR, email, {
        lifetimeMinutes: 60,
        oneTime: true,
        reason,
      });
      assert.match(pass, /^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$/);
      const stored = await portal.store.temporaryPasses.find(account.id);
      assert.ok(
        stored && !JSON.stringify(stored).includes(pass.replaceAll('-', '')),
        'only a hash is stored',
      );

      const active = await atVerification(account);
      const token = await portal.core.flow.useTemporaryPass(active, pass.toLowerCase(), IP);
      const promoted = await portal.core.flow.resume(token, IP);
      assert.equal(promoted?.session.stage, 'register_mfa');
      assert.deepEqual(promoted?.session.factors, ['pwd', 'tap']);
      assert.ok(promoted);
      // Nothing but registering: no other change, no portal page (stage register_mfa).
      await assert.rejects(portal.core.flow.mayChange(promoted, 'change_methods'), {
        code: 'flow_step_not_allowed',
      });
      const setup = await portal.core.flow.startEnrolment(promoted, 'totp', { issuer: 'T' }, IP);
      const outcome = await portal.core.flow.finishEnrolment(
        promoted,
        'totp',
        { issuer: 'T', code: codeAt(setup.secret, clock.now()) },
        IP,
      );
      assert.equal(outcome.status, 'proved');
      const done = outcome.status === 'proved' ? await portal.core.flow.resume(outcome.token, IP) : undefined;
      assert.equal(done?.session.stage, 'complete');

      // The pass no longer works.
      const again = await atVerification(account);
      await assert.rejects(portal.core.flow.useTemporaryPass(again, pass, IP), {
        code: 'temporary_pass_invalid',
      });
      assert.equal((await eventsOf(email, 'temporary_pass.used')).length, 1);
      assert.equal((await eventsOf(email, 'temporary_pass.issued'))[0]?.detail.reason, reason);
    });

    test('200 parallel uses of a one-time pass: exactly one wins; the rest are counted first', {
      skip: skip ?? false,
    }, async () => {
      const { email, account } = await userWithMethod();
      const { pass } = await portal.core.console.issuePass(CLI_ACTOR, email, {
        lifetimeMinutes: 10,
        oneTime: true,
        reason,
      });
      const sessions = await Promise.all(Array.from({ length: 200 }, () => atVerification(account)));
      const results = await Promise.allSettled(
        sessions.map((active) => portal.core.flow.useTemporaryPass(active, pass, IP)),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const codes = results.flatMap((r) =>
        r.status === 'rejected' && isGatehouseError(r.reason) ? [r.reason.code] : [],
      );
      assert.equal(won.length, 1, 'exactly one use succeeds');
      assert.equal(codes.length, 199, 'every other use is refused with a typed error');
      // Evaluated: reached the conditional update (audited with evaluated: true); the others were
      // refused by the attempt limit before anything was checked.
      const used = await eventsOf(email, 'temporary_pass.used');
      const refused = await eventsOf(email, 'temporary_pass.refused');
      const evaluated = used.length + refused.filter((e) => e.detail.evaluated === true).length;
      const unevaluated = refused.filter((e) => e.detail.evaluated === false).length;
      assert.equal(used.length, 1);
      assert.equal(evaluated + unevaluated, 200);
      assert.ok(
        evaluated >= 1 && evaluated <= 6,
        `evaluated ${evaluated}: at most the 5 failures allowed, and the winner`,
      );
      assert.equal(codes.filter((c) => c === 'temporary_pass_invalid').length, evaluated - 1);
      assert.equal(codes.filter((c) => c === 'too_many_attempts').length, 200 - evaluated);
      console.log(`# ${engine}: 200 parallel uses, ${evaluated} evaluated, 1 succeeded`);
    });

    test('a lifetime out of range, an unknown account or no reason: refused, nothing written', {
      skip: skip ?? false,
    }, async () => {
      const { email, account } = await userWithMethod();
      for (const lifetimeMinutes of [9, 481, 0, -5, 1.5, Number.NaN])
        await assert.rejects(
          portal.core.console.issuePass(CLI_ACTOR, email, { lifetimeMinutes, oneTime: true, reason }),
          { code: 'temporary_pass_lifetime' },
        );
      await assert.rejects(
        portal.core.console.issuePass(CLI_ACTOR, email, { lifetimeMinutes: 60, oneTime: true, reason: '  ' }),
        { code: 'console_reason_required' },
      );
      await assert.rejects(
        portal.core.console.issuePass(CLI_ACTOR, 'nobody@example.org', {
          lifetimeMinutes: 60,
          oneTime: true,
          reason,
        }),
        { code: 'account_not_found' },
      );
      await assert.rejects(
        portal.core.console.issuePass({ name: 'a@example.org', role: 'auditor' }, email, {
          lifetimeMinutes: 60,
          oneTime: true,
          reason,
        }),
        { code: 'console_read_only' },
      );
      assert.equal(await portal.store.temporaryPasses.find(account.id), undefined);
      assert.equal((await eventsOf(email, 'temporary_pass.issued')).length, 0);
    });

    test('a new pass replaces the old; a multi-use one works until it expires, and expiry is audited', {
      skip: skip ?? false,
    }, async () => {
      const { email, account } = await userWithMethod();
      const first = await portal.core.console.issuePass(CLI_ACTOR, email, {
        lifetimeMinutes: 30,
        oneTime: true,
        reason,
      });
      const second = await portal.core.console.issuePass(CLI_ACTOR, email, {
        lifetimeMinutes: 30,
        oneTime: false,
        reason,
      });
      assert.equal((await eventsOf(email, 'temporary_pass.revoked'))[0]?.detail.reason, 'replaced');
      await assert.rejects(portal.core.flow.useTemporaryPass(await atVerification(account), first.pass, IP), {
        code: 'temporary_pass_invalid',
      });
      await portal.core.flow.useTemporaryPass(await atVerification(account), second.pass, IP);
      await portal.core.flow.useTemporaryPass(await atVerification(account), second.pass, IP);
      clock.advanceMinutes(31);
      await assert.rejects(
        portal.core.flow.useTemporaryPass(await atVerification(account), second.pass, IP),
        {
          code: 'temporary_pass_invalid',
        },
      );
      assert.ok((await portal.core.passes.sweep()) >= 1);
      assert.equal(await portal.store.temporaryPasses.find(account.id), undefined);
      assert.equal((await eventsOf(email, 'temporary_pass.expired')).length, 1);
      // Revoking: audited with the operator's reason.
      await portal.core.console.issuePass(CLI_ACTOR, email, { lifetimeMinutes: 30, oneTime: true, reason });
      assert.equal(await portal.core.console.revokePass(CLI_ACTOR, email, 'issued by mistake'), true);
      assert.equal((await eventsOf(email, 'temporary_pass.revoked'))[0]?.detail.reason, 'issued by mistake');
    });

    test('a disabled account signs in nowhere and its sessions end at once; re-enabled, it can again', {
      skip: skip ?? false,
    }, async () => {
      const email = `disabled${++n}@example.org`;
      await addUser(portal.core, email);
      const { token } = await portal.core.flow.signIn({ email, password: TEST_PASSWORD, clientAddress: IP });
      await portal.core.legacySignIn({ email, password: TEST_PASSWORD, protocol: 'ldap', clientAddress: IP });
      const account = (await portal.core.accounts.find(email))!;
      const refreshToken = `refresh-${email}`;
      await portal.core.singleSignOn.save('RefreshToken', refreshToken, { accountId: account.id }, 3600);
      assert.equal(await portal.core.console.setDisabled(CLI_ACTOR, email, true, 'left the trust'), true);
      assert.equal(await portal.core.flow.resume(token, IP), undefined, 'the session ended');
      assert.equal(
        await portal.core.singleSignOn.find('RefreshToken', refreshToken),
        undefined,
        'an application cannot refresh its tokens',
      );
      const ended = (await eventsOf(email, 'session.ended_everywhere'))[0];
      assert.equal(ended?.detail.operatorReason, 'left the trust');
      await assert.rejects(portal.core.flow.signIn({ email, password: TEST_PASSWORD, clientAddress: IP }), {
        code: 'invalid_credentials',
      });
      for (const protocol of ['ldap', 'radius'])
        await assert.rejects(
          portal.core.legacySignIn({ email, password: TEST_PASSWORD, protocol, clientAddress: IP }),
        );
      await assert.rejects(
        portal.core.legacyPasswordAndPush({
          email,
          password: TEST_PASSWORD,
          protocol: 'radius',
          clientAddress: IP,
          application: 'VPN',
        }),
      );
      const disabled = (await eventsOf(email, 'account.disabled'))[0];
      assert.equal(disabled?.actor, 'cli');
      assert.equal(disabled?.detail.reason, 'left the trust');
      assert.equal(await portal.core.console.setDisabled(CLI_ACTOR, email, false, 'came back'), true);
      await portal.core.flow.signIn({ email, password: TEST_PASSWORD, clientAddress: IP });
    });

    test('search by email or name prefix, paged; a search of 1 MB is refused before any query', {
      skip: skip ?? false,
    }, async () => {
      for (let i = 0; i < 25; i++)
        await portal.store.accounts.insertMany([
          {
            id: `search-${engine}-${i}`,
            email: `zeta.${String(i).padStart(2, '0')}@example.org`,
            displayName: `Zeta Person ${i}`,
            passwordHash: null,
            sharedMailbox: false,
            createdAt: clock.now(),
            groups: [],
          },
        ]);
      await addUser(portal.core, 'someone@example.org', { displayName: 'Zelda Zimmer' });
      const first = await portal.core.console.search('zeta.');
      assert.equal(first.accounts.length, 20);
      assert.equal(first.more, true);
      const second = await portal.core.console.search('zeta.', 2);
      assert.equal(second.accounts.length, 5);
      assert.equal(second.more, false);
      assert.equal(second.accounts[0]?.email, 'zeta.20@example.org');
      // By name, ignoring case: "ze" finds the Zetas and Zelda.
      const byName = await portal.core.console.search('ZELDA');
      assert.deepEqual(
        byName.accounts.map((a) => a.email),
        ['someone@example.org'],
      );
      assert.equal((await portal.core.console.search('ze', 2)).accounts.length, 6);
      assert.deepEqual((await portal.core.console.search('zeta_')).accounts, [], 'no wildcard');
      await assert.rejects(portal.core.console.search('a'.repeat(1024 * 1024)), { code: 'search_too_long' });
    });

    test('roles: granted and revoked, audited; an unknown account is refused', {
      skip: skip ?? false,
    }, async () => {
      const email = `role${++n}@example.org`;
      const account = await addUser(portal.core, email);
      await portal.core.console.grant(CLI_ACTOR, email, 'auditor');
      assert.equal(await portal.core.console.roleOf(account), 'auditor');
      await portal.core.console.grant(CLI_ACTOR, email, 'operator');
      assert.equal(await portal.core.console.roleOf(account), 'operator');
      assert.equal(await portal.core.console.revoke(CLI_ACTOR, email), true);
      assert.equal(await portal.core.console.roleOf(account), undefined);
      assert.equal((await eventsOf(email, 'role.granted')).length, 2);
      assert.equal((await eventsOf(email, 'role.revoked'))[0]?.detail.role, 'operator');
      await assert.rejects(portal.core.console.grant(CLI_ACTOR, 'none@example.org', 'operator'), {
        code: 'account_not_found',
      });
    });
  });
}
