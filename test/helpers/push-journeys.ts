import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../src/core/clock.ts';
import type { Core } from '../../src/core/index.ts';
import { InjectClient } from './inject-client.ts';
import { addUser, TEST_PASSWORD } from './portal.ts';
import { TestDevice } from './test-device.ts';

export const numberOn = (html: string) => /id="matching-number">(\d\d)</.exec(html)?.[1];
export const activationCodeOn = (html: string) => /\/activations\/([A-Z2-9]{20})/.exec(html)?.[1];

/**
 * The registration and sign-in journeys over HTTP, for server tests: the PC talks to `pcApp`, the
 * phone to `phoneApp` (the same instance, or another one on the same database).
 */
export function pushJourneys(parts: {
  core: Core;
  pcApp: FastifyInstance;
  phoneApp?: FastifyInstance;
  clock: Clock;
}) {
  const { core, pcApp, clock } = parts;
  const phoneApp = parts.phoneApp ?? pcApp;
  let counter = 0;

  async function signIn(email: string, expected: string) {
    const pc = new InjectClient(pcApp);
    const response = await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
    assert.equal(response.headers.location, expected);
    return pc;
  }

  /** A new user with MFA enabled, signed in on a PC, at the registration wizard. */
  async function pcAtRegistration() {
    const email = `user${++counter}-${Math.random().toString(36).slice(2, 8)}@example.org`;
    const account = await addUser(core, email);
    await core.enrolment.enable(account, '192.0.2.1');
    return { email, pc: await signIn(email, '/mfa/register') };
  }

  /** The wizard up to the number: returns the PC, the phone and the number shown. */
  async function scanned() {
    const { email, pc } = await pcAtRegistration();
    const started = await pc.post('/mfa/register/activation', {}, { formPage: '/mfa/register/app' });
    assert.equal(started.headers.location, '/mfa/register/scan');
    const code = activationCodeOn((await pc.get('/mfa/register/scan')).body);
    assert.ok(code, 'the scan page shows the activation link');
    const phone = await TestDevice.create(phoneApp, () => clock.now().getTime());
    const activated = await phone.activate(code);
    assert.equal(activated.statusCode, 200, activated.body);
    const next = await pc.post('/mfa/register/scan', {}, { formPage: '/mfa/register/app' });
    assert.equal(next.headers.location, '/mfa/register/number');
    const number = numberOn((await pc.get('/mfa/register/number')).body);
    assert.ok(number && /^[1-9]\d$/.test(number), 'a two-digit number is shown');
    return { email, pc, phone, number, code };
  }

  async function registered() {
    const { email, pc, phone, number } = await scanned();
    const [requestId] = await phone.pendingIds();
    assert.equal((await phone.answer(requestId!, 'approve', number)).json().status, 'approved');
    const finish = await pc.post('/mfa/register/finish', {}, { formPage: '/mfa/register/number' });
    assert.equal(finish.headers.location, '/mfa/register/app-password');
    return { email, pc, phone };
  }

  /** Signs in again on a new PC: the session waits for the number to be approved. */
  async function pcAtVerification(email: string) {
    const pc = await signIn(email, '/mfa/verify');
    const number = numberOn((await pc.get('/mfa/verify')).body);
    assert.ok(number);
    return { pc, number };
  }

  return { pcAtRegistration, scanned, registered, pcAtVerification };
}
