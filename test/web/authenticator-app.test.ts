import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { manualClock } from '../helpers/clock.ts';
import { ENGINES, postgresUnavailable } from '../helpers/engines.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { activationCodeOn, pushJourneys } from '../helpers/push-journeys.ts';
import { TestDevice } from '../helpers/test-device.ts';

for (const engine of ENGINES) {
  describe(`authenticator app on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    const clock = manualClock();
    let portal: TestPortal;
    let email = '';

    before(async () => {
      if (skip) return;
      portal = await startTestPortal({ engine, clock });
      flows = journeys();
    });
    after(async () => {
      if (!skip) await portal.close();
    });

    const journeys = () => pushJourneys({ core: portal.core, pcApp: portal.app, clock });
    let flows: ReturnType<typeof pushJourneys>;
    const pcAtRegistration = async () => {
      const result = await flows.pcAtRegistration();
      email = result.email;
      return result.pc;
    };
    const scanned = async () => {
      const result = await flows.scanned();
      email = result.email;
      return result;
    };
    const registered = async () => {
      const result = await flows.registered();
      email = result.email;
      return result;
    };
    const pcAtVerification = () => flows.pcAtVerification(email);

    test('registers the app: QR link, activation, the number typed, Notification approved', {
      skip: skip ?? false,
    }, async () => {
      const { pc, phone, number } = await scanned();
      const listed = await phone.requests();
      const body = listed.json() as { requests: Record<string, string>[] };
      assert.equal(body.requests.length, 1);
      assert.equal(body.requests[0]?.purpose, 'registration');
      assert.equal(body.requests[0]?.account, email);
      assert.ok(!listed.body.includes('"number"'), 'the number never goes to the phone');
      const answer = await phone.answer(body.requests[0]!.id!, 'approve', number);
      assert.deepEqual(answer.json(), { status: 'approved' });
      const approved = await pc.get('/mfa/register/number');
      assert.match(approved.body, /Notification approved/);
      assert.equal((await pc.get('/')).statusCode, 303, 'not in the portal before Next');
      await pc.post('/mfa/register/finish', {}, { formPage: '/mfa/register/number' });
      const finished = await pc.get('/mfa/register/finished');
      assert.match(finished.body, /Congratulations, you have successfully set up MFA!/);
      assert.equal((await pc.get('/')).statusCode, 200);
      const types: string[] = (await portal.core.audit.list({ email, limit: 20 })).map((e) => e.type);
      for (const type of [
        'authenticator.activated',
        'authenticator.registered',
        'push.approved',
        'mfa.verified',
      ]) {
        assert.ok(types.includes(type), type);
      }
    });

    test('signs in with the two-digit number approved in the app', { skip: skip ?? false }, async () => {
      const { phone } = await registered();
      const { pc, number } = await pcAtVerification();
      assert.equal((await pc.get('/')).statusCode, 303, 'the portal waits for the approval');
      const [requestId] = await phone.pendingIds();
      const listed = (await phone.requests()).json() as { requests: Record<string, string>[] };
      assert.equal(listed.requests[0]?.purpose, 'sign_in');
      assert.equal(listed.requests[0]?.application, 'Gatehouse Test Trust portal');
      assert.equal(listed.requests[0]?.clientAddress, '203.0.113.5');
      await phone.answer(requestId!, 'approve', number);
      assert.deepEqual((await pc.get('/mfa/verify/status')).json(), { status: 'approved', next: '/' });
      assert.equal((await pc.get('/')).statusCode, 200);
    });

    test('a wrong number never grants access and closes the request', { skip: skip ?? false }, async () => {
      const { phone } = await registered();
      const { pc, number } = await pcAtVerification();
      const wrong = String(((Number(number) - 10 + 1) % 90) + 10);
      const [requestId] = await phone.pendingIds();
      assert.deepEqual((await phone.answer(requestId!, 'approve', wrong)).json(), { status: 'wrong_number' });
      assert.equal(
        (await phone.answer(requestId!, 'approve', number)).statusCode,
        409,
        'closed after a wrong number',
      );
      assert.equal((await pc.get('/')).statusCode, 303);
      assert.match((await pc.get('/mfa/verify')).body, /The number did not match/);
    });

    test('a request accepts one answer: a replayed approval is refused', {
      skip: skip ?? false,
    }, async () => {
      const { phone } = await registered();
      const { number } = await pcAtVerification();
      const [requestId] = await phone.pendingIds();
      assert.equal((await phone.answer(requestId!, 'approve', number)).statusCode, 200);
      const replay = await phone.answer(requestId!, 'approve', number);
      assert.equal(replay.statusCode, 409);
      assert.equal(replay.json().error.code, 'request_already_answered');
    });

    test('of concurrent approvals exactly one wins', { skip: skip ?? false }, async () => {
      const { phone } = await registered();
      const { number } = await pcAtVerification();
      const [requestId] = await phone.pendingIds();
      const answers = await Promise.all(
        Array.from({ length: 12 }, () => phone.answer(requestId!, 'approve', number)),
      );
      assert.equal(answers.filter((a) => a.statusCode === 200).length, 1);
      assert.equal(answers.filter((a) => a.statusCode === 409).length, 11);
      const approvals = (await portal.core.audit.list({ email, limit: 50 })).filter(
        (e) => e.type === 'push.approved' && e.detail.request === requestId,
      );
      assert.equal(approvals.length, 1);
    });

    test('an expired request cannot be approved', { skip: skip ?? false }, async () => {
      const { phone } = await registered();
      const { pc, number } = await pcAtVerification();
      const [requestId] = await phone.pendingIds();
      clock.advanceMinutes(3);
      const late = await phone.answer(requestId!, 'approve', number, { timestamp: clock.now().getTime() });
      assert.equal(late.statusCode, 409);
      assert.equal(late.json().error.code, 'request_expired');
      assert.match((await pc.get('/mfa/verify')).body, /We did not hear from your app/);
    });

    test("another user's device cannot answer, nor can a forged signature", {
      skip: skip ?? false,
    }, async () => {
      const { phone: victimPhone } = await registered();
      const { pc, number } = await pcAtVerification();
      const [requestId] = await victimPhone.pendingIds();
      const victim = email;
      const { phone: attackerPhone } = await registered();
      const other = await attackerPhone.answer(requestId!, 'approve', number);
      assert.equal(other.statusCode, 404);
      const forged = await victimPhone.answer(requestId!, 'approve', number, { signer: attackerPhone });
      assert.equal(forged.statusCode, 401);
      assert.equal(forged.json().error.code, 'bad_signature');
      const stale = await victimPhone.answer(requestId!, 'approve', number, {
        timestamp: clock.now().getTime() - 10 * 60_000,
      });
      assert.equal(stale.json().error.code, 'stale_signature');
      assert.equal((await pc.get('/')).statusCode, 303);
      const types = (await portal.core.audit.list({ email: victim, limit: 50 })).map((e) => e.type);
      assert.ok(types.includes('push.bad_signature'));
    });

    test('push bombing: a few pending at most, and repeated denials pause pushes', {
      skip: skip ?? false,
    }, async () => {
      const { phone } = await registered();
      const pcs = [];
      for (let i = 0; i < 3; i++) pcs.push(await pcAtVerification());
      const fourth = new InjectClient(portal.app);
      // The password's POST raises the request, so it is refused there and the page says why.
      const signedIn = await fourth.post(
        '/signin',
        { email, password: TEST_PASSWORD },
        { formPage: '/signin' },
      );
      assert.equal(signedIn.headers.location, '/mfa/verify?problem=too_many');
      const refused = await fourth.get(signedIn.headers.location as string);
      assert.equal(refused.statusCode, 429);
      assert.match(refused.body, /Too many requests/);
      for (const id of await phone.pendingIds()) await phone.answer(id, 'deny');
      const blocked = await pcs[0]!.pc.post('/mfa/verify/retry', {}, { formPage: '/mfa/verify' });
      assert.equal(blocked.statusCode, 429);
      assert.match(blocked.body, /requests to your app are paused/);
      assert.deepEqual(await phone.pendingIds(), []);
      clock.advanceMinutes(16);
    });

    test("No, it's not me with a report: audited, pending cancelled, pushes blocked", {
      skip: skip ?? false,
    }, async () => {
      const { phone } = await registered();
      const first = await pcAtVerification();
      const second = await pcAtVerification();
      const [firstId] = await phone.pendingIds();
      const denied = await phone.answer(firstId!, 'deny', '', { report: true });
      assert.deepEqual(denied.json(), { status: 'denied' });
      assert.deepEqual(await phone.pendingIds(), [], "the account's other requests are cancelled");
      assert.match((await second.pc.get('/mfa/verify')).body, /Request cancelled/);
      // The PC that asked says the sign-in was stopped because of the report, not merely denied.
      assert.deepEqual((await first.pc.get('/mfa/verify/status')).json().status, 'reported');
      const stopped = (await first.pc.get('/mfa/verify')).body;
      assert.match(stopped, /Sign-in stopped/);
      assert.match(stopped, /Your IT team can see your report/);
      const retry = await first.pc.post('/mfa/verify/retry', {}, { formPage: '/mfa/verify' });
      assert.equal(retry.statusCode, 429);
      const report = (await portal.core.audit.list({ email, limit: 50 })).find(
        (e) => e.type === 'push.reported',
      );
      assert.ok(report);
      assert.equal(report.detail.cancelled, 1);
      clock.advanceMinutes(61);
    });

    test('an activation code works once and expires', { skip: skip ?? false }, async () => {
      const { code } = await scanned();
      const second = await TestDevice.create(portal.app, () => clock.now().getTime());
      const reused = await second.activate(code);
      assert.equal(reused.statusCode, 410);
      assert.equal(reused.json().error.code, 'activation_used');
      const pc = await pcAtRegistration();
      await pc.post('/mfa/register/activation', {}, { formPage: '/mfa/register/app' });
      const fresh = activationCodeOn((await pc.get('/mfa/register/scan')).body)!;
      clock.advanceMinutes(11);
      const late = await second.activate(fresh);
      assert.equal(late.json().error.code, 'activation_expired');
      assert.equal((await second.activate('ABCD-EFGH-JKMN-PQRS-TUVW')).statusCode, 404);
    });

    test('the device API refuses malformed and oversized input with a clear error', {
      skip: skip ?? false,
    }, async () => {
      const bad = [
        { payload: '{"publicKey":', type: 'application/json' },
        {
          payload: JSON.stringify({
            publicKey: { kty: 'EC', crv: 'P-256', x: 'A'.repeat(43), y: 'B'.repeat(43) },
            deviceName: 'x',
          }),
          type: 'application/json',
        },
        {
          payload: JSON.stringify({ publicKey: 'x', deviceName: 'y'.repeat(10_000) }),
          type: 'application/json',
        },
        { payload: 'x'.repeat(20_000), type: 'application/json' },
      ];
      for (const { payload, type } of bad) {
        const response = await portal.app.inject({
          method: 'POST',
          url: '/api/authenticator/v1/activations/ABCDEFGHJKMNPQRSTUVW',
          headers: { 'content-type': type },
          payload,
        });
        assert.ok([400, 404, 413].includes(response.statusCode), `${response.statusCode} ${response.body}`);
        assert.ok(response.json().error.code);
      }
      const cors = await portal.app.inject({
        method: 'OPTIONS',
        url: '/api/authenticator/v1/requests/x/answer',
      });
      assert.equal(cors.statusCode, 204);
      assert.equal(cors.headers['access-control-allow-origin'], '*');
    });
  });
}

describe('approval requests for applications without a screen (a VPN through RADIUS)', () => {
  test('the app approves without a number; the request still takes one answer only', async () => {
    const portal = await startTestPortal();
    try {
      const flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
      const { email, phone } = await flows.registered();
      const account = (await portal.core.accounts.find(email))!;
      const waiting = portal.core.authenticatorApp.requestApproval(account, '198.51.100.9', 'VPN');
      let ids: string[] = [];
      for (let i = 0; i < 100 && ids.length === 0; i++) {
        ids = await phone.pendingIds();
        if (ids.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const listed = (await phone.requests()).json() as {
        requests: { purpose: string; application: string }[];
      };
      assert.deepEqual(
        listed.requests.map((r) => [r.purpose, r.application]),
        [['approval', 'VPN']],
      );
      assert.deepEqual((await phone.answer(ids[0]!, 'approve', '')).json(), { status: 'approved' });
      assert.equal(await waiting, 'approved');
      assert.equal((await phone.answer(ids[0]!, 'approve', '')).statusCode, 409);

      const denied = portal.core.authenticatorApp.requestApproval(account, '198.51.100.9', 'VPN');
      let next: string[] = [];
      for (let i = 0; i < 100 && next.length === 0; i++) {
        next = await phone.pendingIds();
        if (next.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await phone.answer(next[0]!, 'deny');
      assert.equal(await denied, 'denied');
    } finally {
      await portal.close();
    }
  });
});
