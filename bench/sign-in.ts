/**
 * Password sign-ins per second, against bare argon2id verifications per second, measured in one
 * run on this machine (SQLite and, when reachable, PostgreSQL). The ratios are what to compare
 * across machines; the absolute numbers depend on the CPU.
 */
import { performance } from 'node:perf_hooks';
import { systemClock } from '../src/core/clock.ts';
import { argon2idHasher } from '../src/core/passwords/hasher.ts';
import { postgresUnavailable } from '../test/helpers/engines.ts';
import { InjectClient } from '../test/helpers/inject-client.ts';
import { pkiFolder } from '../test/helpers/pki.ts';
import { addUser, signedInSession, startTestPortal, TEST_PASSWORD } from '../test/helpers/portal.ts';
import { pushJourneys } from '../test/helpers/push-journeys.ts';
import { cardWorld } from '../test/helpers/smartcard.ts';
import { SoftAuthenticator } from '../test/helpers/soft-authenticator.ts';

const ORIGIN = 'https://portal.example.org';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);

async function perSecond(rounds: number, work: (i: number) => Promise<unknown>): Promise<number> {
  await work(-1); // warm up
  const start = performance.now();
  for (let i = 0; i < rounds; i++) await work(i);
  return rounds / ((performance.now() - start) / 1000);
}

const hasher = argon2idHasher();
const hash = await hasher.hash(TEST_PASSWORD);
const bare = await perSecond(ROUNDS, () => hasher.verify(hash, TEST_PASSWORD));
console.log(`bare argon2id verifications (19 MiB, t=2): ${bare.toFixed(1)}/s`);

// Smartcard sign-ins use no password hash: their rate is the certificate checks (path, dates,
// usage, a signed CRL), the ticket and the session.
const pki = pkiFolder();
const cards = cardWorld(pki);
const card = cards.ca.issue('bench-card', { email: 'bench@example.org' });

for (const engine of ['sqlite', 'postgres'] as const) {
  if (engine === 'postgres' && (await postgresUnavailable())) {
    console.log('postgres: skipped (not reachable)');
    continue;
  }
  const portal = await startTestPortal({ engine, smartcard: { trust: cards.trust } });
  const core = portal.core;
  await addUser(core, 'bench@example.org');
  const coreRate = await perSecond(ROUNDS, () =>
    core.flow.signIn({ email: 'bench@example.org', password: TEST_PASSWORD, clientAddress: '127.0.0.1' }),
  );
  const httpRate = await perSecond(ROUNDS, async () => {
    const client = new InjectClient(portal.app, '127.0.0.2');
    const response = await client.post(
      '/signin',
      { email: 'bench@example.org', password: TEST_PASSWORD },
      { formPage: '/signin' },
    );
    if (response.statusCode !== 303) throw new Error(`sign-in failed: ${response.statusCode}`);
    await client.get('/');
  });
  // A full MFA sign-in: the password form, the number page, the phone's signed approval, the
  // PC's status poll that promotes the session, and the portal page.
  const flows = pushJourneys({ core, pcApp: portal.app, clock: systemClock });
  const { email, phone } = await flows.registered();
  const mfaRate = await perSecond(Math.max(10, Math.floor(ROUNDS / 2)), async () => {
    const { pc, number } = await flows.pcAtVerification(email);
    const [requestId] = await phone.pendingIds();
    if (requestId === undefined) throw new Error('the phone has no pending request');
    const answer = await phone.answer(requestId, 'approve', number);
    if (answer.json().status !== 'approved') throw new Error('approval failed');
    if ((await pc.get('/mfa/verify/status')).json().status !== 'approved')
      throw new Error('status not approved');
    if ((await pc.get('/')).statusCode !== 200) throw new Error('portal not reached');
  });
  const cardRate = await perSecond(ROUNDS, async () => {
    const state = core.smartcard.newState();
    const presented = await core.smartcard.present({
      chain: [card.der],
      purpose: 'sign_in',
      state,
      clientAddress: '127.0.0.3',
    });
    await core.flow.signInWithSmartcard({
      ticket: presented.ticket,
      state,
      clientAddress: '127.0.0.3',
      returnTo: null,
    });
  });
  // `Sign in with a passkey`: no password hash either; the options (a stored challenge), the
  // assertion's checks (ECDSA P-256 signature, origin, RP ID, counter in one conditional update)
  // and the session. Each round from its own address: the options are limited per address.
  await addUser(core, 'passkey.bench@example.org');
  const passkeyAccount = await core.accounts.find('passkey.bench@example.org');
  if (!passkeyAccount) throw new Error('no passkey account');
  await core.enrolment.enable(passkeyAccount, '127.0.0.1');
  const key = new SoftAuthenticator();
  const { active } = await signedInSession(core, 'passkey.bench@example.org');
  const creation = await core.flow.startEnrolment(active, 'passkey', { origin: ORIGIN }, '127.0.0.1');
  await core.flow.finishEnrolment(
    active,
    'passkey',
    { origin: ORIGIN, response: key.register(creation, ORIGIN), name: 'Bench key' },
    '127.0.0.1',
  );
  const passkeyRate = await perSecond(ROUNDS, async (i) => {
    const address = `10.9.${(i + 1) >> 8}.${(i + 1) & 255}`;
    const state = core.passkeys.newState();
    const options = await core.flow.startPasskeySignIn(state, ORIGIN, address);
    await core.flow.signInWithPasskey({
      state,
      origin: ORIGIN,
      response: key.assert(options, ORIGIN),
      clientAddress: address,
      returnTo: null,
    });
  });
  console.log(
    `${engine}: passkey sign-ins without a password (options, assertion checks, counter, session) ${passkeyRate.toFixed(1)}/s (ratio ${(passkeyRate / bare).toFixed(2)})`,
  );
  console.log(
    `${engine}: smartcard sign-ins (certificate checks with CRL, ticket, session) ${cardRate.toFixed(1)}/s (ratio ${(cardRate / bare).toFixed(2)})`,
  );
  console.log(
    `${engine}: full MFA sign-ins (password, number, signed approval, portal) ${mfaRate.toFixed(1)}/s (ratio ${(mfaRate / bare).toFixed(2)})`,
  );
  console.log(
    `${engine}: core sign-ins ${coreRate.toFixed(1)}/s (ratio to bare argon2id ${(coreRate / bare).toFixed(2)}); ` +
      `full HTTP sign-ins (form, POST, portal page) ${httpRate.toFixed(1)}/s (ratio ${(httpRate / bare).toFixed(2)})`,
  );
  await portal.close();
}
pki.remove();
