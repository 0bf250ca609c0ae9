import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CLI_ACTOR } from '../../src/core/console/actor.ts';
import { amrOf, PHISHING_RESISTANT_WANTED } from '../../src/core/methods/passkey/factors.ts';
import { codeAt } from '../../src/core/methods/totp/totp-codes.ts';
import { ACR_MFA, ACR_PHISHING_RESISTANT, acrFor } from '../../src/oidc/acr.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import {
  addUser,
  insertCodeApp,
  passkeysRequiring,
  signedInSession,
  startTestPortal,
  TEST_PASSWORD,
  type TestPortal,
} from '../helpers/portal.ts';
import { SoftAuthenticator } from '../helpers/soft-authenticator.ts';

const IP = '192.0.2.1';
const ORIGIN = 'https://portal.example.org';
const GROUP = 'Theatre staff';

/**
 * The phishing-resistant requirement (issue 15) in the core, on each engine: a step-up that only
 * a passkey may answer (for an application or the console), the wizard of a group that must use
 * one, applications holding the requirement, and the VPN's password-and-push refused for them.
 */
for (const engine of ENGINES) {
  describe(`phishing-resistant requirement (${engine})`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let portal: TestPortal;
    let n = 0;

    before(async () => {
      if (!skip)
        portal = await startTestPortal({
          engine,
          settings: {
            passkeys: passkeysRequiring([GROUP], true),
          },
        });
    });
    after(async () => portal?.close());

    const eventsOf = async (email: string, type: string) =>
      (await portal.core.audit.list({ email, limit: 1000 })).filter((e) => e.type === type);

    /** A user outside the group with a code app and a passkey, signed in with a code (not phishing-resistant). */
    async function signedInWithCode() {
      const email = `phr.user${++n}@example.org`;
      await addUser(portal.core, email);
      const account = (await portal.core.accounts.find(email))!;
      await portal.core.enrolment.enable(account, IP);
      const key = new SoftAuthenticator();
      const { active: wizard } = await signedInSession(portal.core, email);
      const creation = await portal.core.flow.startEnrolment(wizard, 'passkey', { origin: ORIGIN }, IP);
      await portal.core.flow.finishEnrolment(
        wizard,
        'passkey',
        { origin: ORIGIN, response: key.register(creation, ORIGIN), name: 'Blue key' },
        IP,
      );
      const { secret } = await insertCodeApp(portal.store, account.id);
      const { active } = await signedInSession(portal.core, email);
      const outcome = await portal.core.flow.finishChallenge(
        active,
        'totp',
        { code: codeAt(secret, new Date()) },
        IP,
      );
      assert.equal(outcome.status, 'proved');
      const signedIn = await portal.core.flow.resume(outcome.status === 'proved' ? outcome.token : '', IP);
      assert.ok(signedIn);
      assert.equal(portal.core.flow.isPhishingResistant(signedIn), false);
      return { email, key, secret, active: signedIn };
    }

    test('a step-up asked for with phishingResistant accepts only a passkey, whose proof replaces the mark', {
      skip: skip ?? false,
    }, async () => {
      const { email, key, secret, active } = await signedInWithCode();
      await portal.core.flow.stepUp(active, '/interaction/abc', IP, { phishingResistant: true });
      assert.equal(active.session.stage, 'verify_mfa');
      assert.ok(portal.core.flow.phishingResistantWanted(active));
      assert.equal(portal.core.flow.phishingResistantRequired(active.account), false, 'not by group');
      assert.deepEqual(await portal.core.flow.challengeMethods(active), ['passkey']);
      await assert.rejects(portal.core.flow.startChallenge(active, 'totp', {}, IP), {
        code: 'phishing_resistant_required',
      });
      await assert.rejects(
        portal.core.flow.finishChallenge(active, 'totp', { code: codeAt(secret, new Date()) }, IP),
        { code: 'phishing_resistant_required' },
      );
      const options = await portal.core.flow.startChallenge(active, 'passkey', { origin: ORIGIN }, IP);
      const outcome = await portal.core.flow.finishChallenge(
        active,
        'passkey',
        { origin: ORIGIN, response: key.assert(options, ORIGIN) },
        IP,
      );
      assert.equal(outcome.status, 'proved');
      const after = await portal.core.flow.resume(outcome.status === 'proved' ? outcome.token : '', IP);
      assert.ok(after && portal.core.flow.isPhishingResistant(after));
      assert.equal(after.session.factors.includes(PHISHING_RESISTANT_WANTED), false, 'the mark is gone');
      assert.deepEqual(amrOf(after.session.factors).sort(), ['hwk', 'mfa', 'pwd', 'user']);
      assert.equal(acrFor(after.session.factors, true), ACR_PHISHING_RESISTANT);
      assert.equal(acrFor(after.session.factors), ACR_MFA, 'stated as MFA unless asked for');
      const [stepped] = await eventsOf(email, 'session.stepped_up');
      assert.equal(stepped?.detail.phishingResistant, true);
      // My sign-ins names each second factor: the passkey, then (older) the code.
      const methods = (await portal.core.ownAccount.signIns.list(after.account))
        .filter((entry) => entry.method !== 'password')
        .map((entry) => entry.method);
      assert.deepEqual(methods.slice(0, 2), ['passkey', 'verification_code']);
    });

    test('a step-up without it still accepts the code app (the mark is what narrows it)', {
      skip: skip ?? false,
    }, async () => {
      const { active } = await signedInWithCode();
      await portal.core.flow.stepUp(active, null, IP);
      assert.equal(portal.core.flow.phishingResistantWanted(active), false);
      assert.deepEqual((await portal.core.flow.challengeMethods(active)).sort(), ['passkey', 'totp']);
      assert.equal(acrFor(active.session.factors, true), 'urn:gatehouse:acr:password');
    });

    test('the wizard of a group that must use a passkey registers a passkey and nothing else', {
      skip: skip ?? false,
    }, async () => {
      const email = `phr.group${++n}@example.org`;
      await addUser(portal.core, email, { groups: [GROUP] });
      const account = (await portal.core.accounts.find(email))!;
      await portal.core.enrolment.enable(account, IP);
      const { active } = await signedInSession(portal.core, email);
      assert.equal(active.session.stage, 'register_mfa');
      for (const kind of ['totp', 'phone', 'authenticator_app'] as const)
        await assert.rejects(
          portal.core.flow.startEnrolment(active, kind, {} as never, IP),
          { code: 'phishing_resistant_required' },
          kind,
        );
      assert.equal((await portal.store.methods.listForAccount(account.id)).length, 0, 'nothing registered');
      const key = new SoftAuthenticator();
      const creation = await portal.core.flow.startEnrolment(active, 'passkey', { origin: ORIGIN }, IP);
      const outcome = await portal.core.flow.finishEnrolment(
        active,
        'passkey',
        { origin: ORIGIN, response: key.register(creation, ORIGIN), name: 'Phone' },
        IP,
      );
      assert.equal(outcome.status, 'proved');
      assert.equal(await portal.core.flow.hasPasskey(account), true);
    });

    test('an application holds the requirement on each engine; an operator changes it, audited', {
      skip: skip ?? false,
    }, async () => {
      const apps = portal.core.console.applications;
      const { application } = await apps.add(CLI_ACTOR, {
        name: `Theatre list ${engine}`,
        redirectUris: ['https://theatre.example.org/callback'],
        postLogoutRedirectUris: [],
        confidential: true,
        requireMfa: false,
        requirePhishingResistant: true,
      });
      const stored = await apps.find(application.clientId);
      assert.equal(stored?.requirePhishingResistant, true);
      assert.equal(stored?.requireMfa, true, 'a passkey or smartcard is MFA too');
      await assert.rejects(
        apps.setRequirements({ name: 'auditor@example.org', role: 'auditor' }, application.clientId, {
          requireMfa: false,
          requirePhishingResistant: false,
        }),
        { code: 'console_read_only' },
      );
      const changed = await apps.setRequirements(
        CLI_ACTOR,
        application.clientId,
        { requireMfa: true, requirePhishingResistant: false },
        'theatre moved to smartcards later',
      );
      assert.deepEqual([changed.requireMfa, changed.requirePhishingResistant], [true, false]);
      const again = await apps.find(application.clientId);
      assert.deepEqual([again?.requireMfa, again?.requirePhishingResistant], [true, false]);
      const events = (await portal.core.audit.list({ limit: 1000 })).filter(
        (e) => e.type === 'application.requirements_changed' && e.detail.clientId === application.clientId,
      );
      assert.equal(events.length, 1, 'the auditor changed nothing');
      assert.deepEqual(events[0]?.detail.from, { requireMfa: true, requirePhishingResistant: true });
      assert.deepEqual(events[0]?.detail.to, { requireMfa: true, requirePhishingResistant: false });
      assert.equal(events[0]?.detail.reason, 'theatre moved to smartcards later');
      await assert.rejects(
        apps.setRequirements(CLI_ACTOR, 'no-such-client', {
          requireMfa: true,
          requirePhishingResistant: true,
        }),
        { code: 'application_not_found' },
      );
    });

    test("the VPN's password-and-push refuses a member of the group without sending a push", {
      skip: skip ?? false,
    }, async () => {
      const email = `phr.vpn${++n}@example.org`;
      await addUser(portal.core, email, { groups: [GROUP] });
      const account = (await portal.core.accounts.find(email))!;
      await portal.core.enrolment.enable(account, IP);
      await assert.rejects(
        portal.core.legacyPasswordAndPush({
          email,
          password: TEST_PASSWORD,
          protocol: 'radius',
          clientAddress: IP,
          application: 'VPN',
        }),
        { code: 'invalid_credentials' },
      );
      assert.deepEqual(await portal.store.pushRequests.pendingForAccount(account.id, new Date()), []);
      const [refused] = await eventsOf(email, 'sso.refused');
      assert.equal(refused?.detail.reason, 'phishing_resistant_required');
      assert.equal(refused?.detail.approval, undefined, 'no approval was asked');
    });
  });
}
