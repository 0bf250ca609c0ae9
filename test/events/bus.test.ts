import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { postgresBus } from '../../src/channels/event-bus/postgres.ts';
import { redisBus } from '../../src/channels/event-bus/redis.ts';
import { type BusDelivery, type EventBus, inProcessBus } from '../../src/core/events/bus.ts';
import { POSTGRES_URL, postgresUnavailable } from '../helpers/engines.ts';
import { eventually } from '../helpers/eventually.ts';
import { REDIS_URL, redisTestPrefix, redisUnavailable } from '../helpers/redis.ts';

const logger = pino({ level: process.env.GATEHOUSE_TEST_LOG ?? 'silent' });

/** Two instances' buses of one engine (the same one twice when it is in-process). */
interface Engine {
  name: string;
  skip: string | null;
  pair(): { a: EventBus; b: EventBus; other: EventBus };
}

const namespace = () => `gatehouse_test_${randomBytes(6).toString('hex')}`;

const engines: Engine[] = [
  {
    name: 'in-process',
    skip: null,
    pair() {
      const bus = inProcessBus();
      return { a: bus, b: bus, other: inProcessBus() };
    },
  },
  {
    name: 'PostgreSQL LISTEN/NOTIFY',
    skip: await postgresUnavailable(),
    pair() {
      const ns = namespace();
      const make = (n: string) => postgresBus({ connectionString: POSTGRES_URL, namespace: n, logger });
      return { a: make(ns), b: make(ns), other: make(namespace()) };
    },
  },
  {
    name: 'Redis pub/sub',
    skip: await redisUnavailable(),
    pair() {
      const prefix = redisTestPrefix();
      const make = (p: string) => redisBus({ url: REDIS_URL, prefix: p, logger });
      return { a: make(prefix), b: make(prefix), other: make(redisTestPrefix()) };
    },
  },
];

for (const engine of engines) {
  describe(`the event bus: ${engine.name}`, { skip: engine.skip ?? false }, () => {
    const open: EventBus[] = [];
    after(async () => {
      for (const bus of new Set(open)) await bus.close();
    });
    const pair = () => {
      const p = engine.pair();
      open.push(p.a, p.b, p.other);
      return p;
    };

    test('an event published on one instance reaches the subscribers of its topic on another', async () => {
      const { a, b } = pair();
      const got: BusDelivery[] = [];
      const gotToo: BusDelivery[] = [];
      const elsewhere: BusDelivery[] = [];
      const stop = await b.subscribe('push:device:d1', (d) => got.push(d));
      await b.subscribe('push:device:d1', (d) => gotToo.push(d));
      await b.subscribe('push:device:d2', (d) => elsewhere.push(d));
      await a.publish('push:device:d1', { type: 'push.created', id: 'r1' });
      await eventually('both subscribers of the topic get it', () => got.length === 1 && gotToo.length === 1);
      assert.deepEqual(got[0], { kind: 'event', event: { type: 'push.created', id: 'r1' } });

      stop();
      await a.publish('push:device:d1', { type: 'push.answered', id: 'r1' });
      await a.publish('push:device:d2', { type: 'push.created', id: 'r2' });
      // d2's event is published after d1's second one: once it is here, d1's has been handed out.
      await eventually('the other topic gets its own event', () => elsewhere.length === 1);
      await eventually('the remaining subscriber of d1 gets the second event', () => gotToo.length === 2);
      assert.equal(got.length, 1, 'an unsubscribed handler gets nothing more');
      assert.deepEqual(elsewhere[0], { kind: 'event', event: { type: 'push.created', id: 'r2' } });
    });

    test('deployments apart (another schema, another prefix) do not hear each other', async () => {
      const { a, b, other } = pair();
      const heardByOther: BusDelivery[] = [];
      const heard: BusDelivery[] = [];
      await other.subscribe('push:session:s1', (d) => heardByOther.push(d));
      await b.subscribe('push:session:s1', (d) => heard.push(d));
      await a.publish('push:session:s1', { type: 'push.created', id: 'r1' });
      await other.publish('push:session:s1', { type: 'push.answered', id: 'r9' });
      await eventually('each hears its own', () => heard.length === 1 && heardByOther.length === 1);
      assert.deepEqual(heard[0], { kind: 'event', event: { type: 'push.created', id: 'r1' } });
      assert.deepEqual(heardByOther[0], { kind: 'event', event: { type: 'push.answered', id: 'r9' } });
    });
  });
}
