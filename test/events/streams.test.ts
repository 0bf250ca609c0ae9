import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { postgresUnavailable, type TestDatabase, testDatabase } from '../helpers/engines.ts';
import type { InjectClient } from '../helpers/inject-client.ts';
import { startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { activationCodeOn, numberOn, pushJourneys } from '../helpers/push-journeys.ts';
import { REDIS_URL, redisTestPrefix, redisUnavailable } from '../helpers/redis.ts';
import { listing, SseClient } from '../helpers/sse.ts';
import { TestDevice } from '../helpers/test-device.ts';

/** The PC's cookies, for its page's event stream over real HTTP. */
const cookieOf = (pc: InjectClient) => ({
  cookie: [...pc.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
});

interface Setup {
  name: string;
  skip: string | null;
  /** The portal the PC talks to and the one the phone talks to (the same, or two instances). */
  start(): Promise<{ pcSide: TestPortal; phoneSide: TestPortal; close(): Promise<void> }>;
}

const noPostgres = await postgresUnavailable();
const noRedis = (await redisUnavailable()) ?? noPostgres;

const onePortal = (engine: 'sqlite' | 'postgres') => async () => {
  const portal = await startTestPortal({ engine, listen: true });
  return { pcSide: portal, phoneSide: portal, close: () => portal.close() };
};

const twoPortals = (redis: boolean) => async () => {
  const database: TestDatabase = testDatabase('postgres');
  const eventBus = redis ? { redisUrl: REDIS_URL, prefix: redisTestPrefix() } : undefined;
  const first = await startTestPortal({ database, listen: true, ...(eventBus ? { eventBus } : {}) });
  const second = await startTestPortal({ database, listen: true, ...(eventBus ? { eventBus } : {}) });
  return {
    pcSide: first,
    phoneSide: second,
    async close() {
      await first.close();
      await second.close();
      await database.drop();
    },
  };
};

const setups: Setup[] = [
  { name: 'SQLite, in-process bus', skip: null, start: onePortal('sqlite') },
  { name: 'PostgreSQL, LISTEN/NOTIFY', skip: noPostgres, start: onePortal('postgres') },
  {
    name: 'two instances on one PostgreSQL schema, LISTEN/NOTIFY',
    skip: noPostgres,
    start: twoPortals(false),
  },
  { name: 'two instances on PostgreSQL, Redis pub/sub', skip: noRedis, start: twoPortals(true) },
];

for (const setup of setups) {
  describe(`events instead of polling: ${setup.name}`, { skip: setup.skip ?? false }, () => {
    let started: Awaited<ReturnType<Setup['start']>>;
    const streams: SseClient[] = [];
    before(async () => {
      started = await setup.start();
    });
    after(async () => {
      for (const s of streams) await s.close();
      await started.close();
    });
    const open = async (url: string, headers?: Record<string, string>) => {
      const stream = await SseClient.open(url, headers);
      streams.push(stream);
      assert.equal(stream.status, 200);
      return stream;
    };

    test('registration, then sign-in: each request reaches the open app, each answer the PC page', async () => {
      const { pcSide, phoneSide } = started;
      const flows = pushJourneys({
        core: pcSide.core,
        pcApp: pcSide.app,
        phoneApp: phoneSide.app,
        clock: systemClock,
      });

      // Registration: the "Notification approved" page listens for the app's answer.
      const { email, pc: wizard } = await flows.pcAtRegistration();
      await wizard.post('/mfa/register/activation', {}, { formPage: '/mfa/register/app' });
      const code = activationCodeOn((await wizard.get('/mfa/register/scan')).body);
      assert.ok(code);
      const phone = await TestDevice.create(phoneSide.app);
      assert.equal((await phone.activate(code)).statusCode, 200);
      await wizard.post('/mfa/register/scan', {}, { formPage: '/mfa/register/app' });
      const shown = numberOn((await wizard.get('/mfa/register/number')).body);
      assert.ok(shown);
      const device = await open(`${phoneSide.url}${await phone.eventsPath()}`);
      const [registration] = await phone.pendingIds();
      assert.ok(registration);
      await device.next(listing(registration), 0);
      const wizardPage = await open(`${pcSide.url}/mfa/register/events`, cookieOf(wizard));
      await wizardPage.next((e) => e.event === 'ready');
      const approved = await phone.answer(registration, 'approve', shown);
      assert.equal(approved.json().status, 'approved');
      await wizardPage.next((e) => e.event === 'changed');
      assert.equal((await wizard.get('/mfa/register/status')).json().status, 'approved');
      const finish = await wizard.post('/mfa/register/finish', {}, { formPage: '/mfa/register/number' });
      assert.equal(finish.headers.location, '/mfa/register/app-password');

      // Sign-in on a new PC: the request is raised by the password's POST, on the PC's instance.
      const before = device.events.length;
      const { pc, number } = await flows.pcAtVerification(email);
      const [signIn] = await phone.pendingIds();
      assert.ok(signIn);
      await device.next(listing(signIn), before);
      const page = await open(`${pcSide.url}/mfa/verify/events`, cookieOf(pc));
      await page.next((e) => e.event === 'ready');
      assert.equal((await pc.get('/mfa/verify/status')).json().status, 'pending');
      assert.equal((await phone.answer(signIn, 'approve', number)).json().status, 'approved');
      await page.next((e) => e.event === 'changed');
      const status = (await pc.get('/mfa/verify/status')).json();
      assert.equal(status.status, 'approved');
      // The answered request leaves the app's list.
      const answered = device.events.length;
      await device.next((e) => e.event === 'requests' && !listing(signIn)(e), answered - 1);
      assert.deepEqual(device.latestRequestIds(), []);
    });

    test('a stream that reconnects misses nothing: what is pending comes on connect', async () => {
      const { pcSide, phoneSide } = started;
      const flows = pushJourneys({
        core: pcSide.core,
        pcApp: pcSide.app,
        phoneApp: phoneSide.app,
        clock: systemClock,
      });
      const { email, phone } = await flows.registered();
      const first = await open(`${phoneSide.url}${await phone.eventsPath()}`);
      await first.next((e) => e.event === 'requests');
      assert.deepEqual(first.latestRequestIds(), []);
      await first.close();
      // Raised while the app is away (no stream open anywhere for this device).
      await flows.pcAtVerification(email);
      const [raised] = await phone.pendingIds();
      assert.ok(raised);
      const again = await open(`${phoneSide.url}${await phone.eventsPath()}`);
      const firstEvent = await again.next((e) => e.event === 'requests');
      assert.ok(listing(raised)(firstEvent), 'the first event of the new stream lists it');
    });

    test("the PC page's stream changes nothing: it neither promotes the session nor answers", async () => {
      const { pcSide, phoneSide } = started;
      const flows = pushJourneys({
        core: pcSide.core,
        pcApp: pcSide.app,
        phoneApp: phoneSide.app,
        clock: systemClock,
      });
      const { email, phone } = await flows.registered();
      const { pc, number } = await flows.pcAtVerification(email);
      const [signIn] = await phone.pendingIds();
      assert.ok(signIn);
      const page = await open(`${pcSide.url}/mfa/verify/events`, cookieOf(pc));
      await page.next((e) => e.event === 'ready');
      assert.equal((await phone.answer(signIn, 'approve', number)).json().status, 'approved');
      await page.next((e) => e.event === 'changed');
      await page.close();
      // Still at the second step until the page itself asks: the stream did not move the session.
      assert.equal((await pc.get('/')).headers.location, '/mfa/verify');
      assert.equal((await pc.get('/mfa/verify/status')).json().status, 'approved');
      assert.equal((await pc.get('/')).statusCode, 200);
      // Without a session, the stream is refused like the status URL.
      const stranger = await SseClient.open(`${pcSide.url}/mfa/verify/events`);
      assert.notEqual(stranger.status, 200);
    });
  });
}
