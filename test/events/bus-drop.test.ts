import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { systemClock } from '../../src/core/clock.ts';
import { inProcessBus } from '../../src/core/events/bus.ts';
import { type Core, createCore, defaultCoreSettings } from '../../src/core/index.ts';
import type { Store } from '../../src/core/store.ts';
import { openStore, type StoreLocation } from '../../src/store/open-store.ts';
import { postgresEngine } from '../../src/store/postgres.ts';
import { type TestDatabase, testDatabase } from '../helpers/engines.ts';
import { signedInSession, startTestPortal, TEST_SECRETS, type TestPortal } from '../helpers/portal.ts';
import { type PrivatePostgres, privatePostgres } from '../helpers/private-postgres.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';
import { privateRedis } from '../helpers/redis.ts';
import { listing, SseClient } from '../helpers/sse.ts';

/** A fresh schema on a PostgreSQL server of the test's own. */
function databaseOn(server: PrivatePostgres): TestDatabase {
  const schema = `gatehouse_test_${randomBytes(6).toString('hex')}`;
  const location: StoreLocation = { engine: 'postgres', url: server.url, schema };
  return {
    location,
    open: () => openStore(location),
    rawEngine: () => postgresEngine({ connectionString: server.url, schema }),
    async drop() {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

/**
 * An instance whose events nobody else hears (its bus is its own, in-process): a request it raises
 * stands for one whose event was lost while the bus was down. Only a catch-up read finds it.
 */
async function silentInstance(database: TestDatabase) {
  const store: Store = await database.open();
  const core: Core = createCore({
    store,
    secrets: TEST_SECRETS,
    settings: defaultCoreSettings,
    events: inProcessBus(),
  });
  return {
    async raise(email: string) {
      const account = await core.accounts.find(email);
      assert.ok(account);
      const { active } = await signedInSession(core, email);
      return core.authenticatorApp.signInRequest(account, active.session, '192.0.2.77', 'Lost event');
    },
    close: () => store.close(),
  };
}

/** Registers a user's app, opens its stream, and returns what a drop test needs. */
async function openApp(portal: TestPortal) {
  const flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
  const { email, phone } = await flows.registered();
  const stream = await SseClient.open(`${portal.url}${await phone.eventsPath()}`);
  assert.equal(stream.status, 200);
  await stream.next((e) => e.event === 'requests');
  assert.deepEqual(stream.latestRequestIds(), []);
  return { flows, email, phone, stream };
}

describe('the PostgreSQL bus survives its server restarting', () => {
  let server: PrivatePostgres;
  let database: TestDatabase;
  let portal: TestPortal;

  before(async () => {
    server = await privatePostgres();
    database = databaseOn(server);
    portal = await startTestPortal({ database, listen: true });
  });
  after(async () => {
    await portal?.close();
    await database?.drop();
    server?.destroy();
  });

  for (const [how, drop] of [
    ['a restart', () => server.restart()],
    ['its connections being terminated', () => server.terminateConnections()],
  ] as const) {
    test(`after ${how}: one catch-up read finds what was missed, and new requests still arrive`, async () => {
      const { flows, email, phone, stream } = await openApp(portal);
      const silent = await silentInstance(database);
      try {
        const missed = await silent.raise(email);
        drop();
        // Reconnected, the bus tells the stream to resync: its one read lists the missed request.
        await stream.next(listing(missed.id));
        assert.equal(stream.closed, false, 'the stream itself stayed open');
        // A request raised after the drop reaches the stream through the bus again.
        const from = stream.events.length;
        await flows.pcAtVerification(email);
        const pending = await phone.pendingIds();
        const raised = pending.find((id) => id !== missed.id);
        assert.ok(raised);
        await stream.next(listing(raised), from);
      } finally {
        await stream.close();
        await silent.close();
      }
    });
  }
});

describe('the Redis bus survives its server being killed and started again', () => {
  let redis: Awaited<ReturnType<typeof privateRedis>>;
  let database: TestDatabase;
  let portal: TestPortal;

  before(async () => {
    redis = await privateRedis();
    database = testDatabase('sqlite');
    portal = await startTestPortal({
      database,
      listen: true,
      eventBus: { redisUrl: redis.url, prefix: 'gatehouse-test:' },
    });
  });
  after(async () => {
    await portal?.close();
    await redis?.stop();
    await database?.drop();
  });

  test('one catch-up read finds what was missed, and new requests still arrive', async () => {
    const { flows, email, phone, stream } = await openApp(portal);
    const silent = await silentInstance(database);
    try {
      await redis.stop();
      const missed = await silent.raise(email);
      await redis.start();
      await stream.next(listing(missed.id));
      assert.equal(stream.closed, false, 'the stream itself stayed open');
      const from = stream.events.length;
      await flows.pcAtVerification(email);
      const raised = (await phone.pendingIds()).find((id) => id !== missed.id);
      assert.ok(raised);
      await stream.next(listing(raised), from);
    } finally {
      await stream.close();
      await silent.close();
    }
  });
});
