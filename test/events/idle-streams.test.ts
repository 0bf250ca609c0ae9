import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../../src/core/clock.ts';
import { countingDatabase } from '../helpers/counting-database.ts';
import { ENGINES, postgresUnavailable, testDatabase } from '../helpers/engines.ts';
import { startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';
import { listing, SseClient } from '../helpers/sse.ts';

const DEVICE_STREAMS = 25;
const PAGE_STREAMS = 5;
/** How long the open streams are watched for queries. */
const WINDOW_MS = 3000;

for (const engine of ENGINES) {
  const skip = engine === 'postgres' ? await postgresUnavailable() : null;
  describe(`idle streams cost no database query: ${engine}`, { skip: skip ?? false }, () => {
    const database = countingDatabase(testDatabase(engine));
    let portal: TestPortal;
    const streams: SseClient[] = [];
    before(async () => {
      portal = await startTestPortal({ database, listen: true });
    });
    after(async () => {
      for (const s of streams) await s.close();
      await portal.close();
      await database.drop();
    });

    test(`${DEVICE_STREAMS} app streams and ${PAGE_STREAMS} waiting pages open: 0 queries while nothing happens`, async () => {
      const flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
      const { email, phone } = await flows.registered();
      for (let i = 0; i < DEVICE_STREAMS; i++) {
        const stream = await SseClient.open(`${portal.url}${await phone.eventsPath()}`);
        streams.push(stream);
        await stream.next((e) => e.event === 'requests');
      }
      const { pc } = await flows.pcAtVerification(email);
      const [raised] = await phone.pendingIds();
      assert.ok(raised);
      for (const stream of streams) await stream.next(listing(raised));
      const cookie = [...pc.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      for (let i = 0; i < PAGE_STREAMS; i++) {
        const page = await SseClient.open(`${portal.url}/mfa/verify/events`, { cookie });
        streams.push(page);
        assert.equal(page.status, 200);
        await page.next((e) => e.event === 'ready');
      }

      const before = database.queries();
      await sleep(WINDOW_MS);
      assert.equal(database.queries() - before, 0, 'no query while the streams are idle');
      assert.ok(
        streams.every((s) => !s.closed),
        'every stream is still open',
      );

      // The counter does count: an answer makes the streams read (a handful of queries).
      const seen = streams.map((s) => s.events.length);
      const number = /id="matching-number">(\d\d)</.exec((await pc.get('/mfa/verify')).body)?.[1];
      assert.equal((await phone.answer(raised, 'approve', number)).json().status, 'approved');
      for (const [i, stream] of streams.slice(0, DEVICE_STREAMS).entries())
        await stream.next((e) => e.event === 'requests' && !listing(raised)(e), seen[i]);
      assert.ok(database.queries() > before);
    });
  });
}
