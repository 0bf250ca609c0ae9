import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { coreSettings, loadConfig, storeLocation } from '../../src/config/config.ts';
import { secretBoxFor } from '../../src/config/secrets-key.ts';
import { systemClock } from '../../src/core/clock.ts';
import { createCore } from '../../src/core/index.ts';
import type { Store } from '../../src/core/store.ts';
import { startServer } from '../../src/server.ts';
import { openStore } from '../../src/store/open-store.ts';
import { bearerTokenMatches } from '../../src/web/metrics.ts';
import { POSTGRES_URL, postgresUnavailable } from '../helpers/engines.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { addUser, TEST_PASSWORD } from '../helpers/portal.ts';
import { freeTcpPort } from '../helpers/ports.ts';
import { numberOn, pushJourneys } from '../helpers/push-journeys.ts';

const TOKEN = 'metrics-token-for-the-tests-0123456789';
const SECRETS_KEY = Buffer.alloc(32, 9).toString('base64');

/** The value of one sample in Prometheus's text format, 0 when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return 0;
}

/** A data folder (SQLite) or a database of its own (PostgreSQL), as `gatehouse serve` is given. */
async function environment(
  engine: 'sqlite' | 'postgres',
): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-metrics-'));
    return {
      env: { GATEHOUSE_DATA_DIR: dir },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `gatehouse_metrics_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    env: { GATEHOUSE_DATABASE_URL: url.toString() },
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** The real server (`gatehouse serve`'s startServer) on `env`, plus a core of its own on the same database. */
async function served(env: Record<string, string>) {
  const config = loadConfig(
    {
      ...env,
      GATEHOUSE_SECRETS_KEY: SECRETS_KEY,
      GATEHOUSE_PORT: '0',
      GATEHOUSE_HOST: '127.0.0.1',
      GATEHOUSE_LOG_LEVEL: 'silent',
      GATEHOUSE_COOKIE_SECURE: 'false',
    },
    tmpdir(),
  );
  const app: FastifyInstance = await startServer(config);
  const store: Store = await openStore(storeLocation(config));
  const core = createCore({ store, settings: coreSettings(config), secrets: secretBoxFor(config) });
  return {
    app,
    core,
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

async function scrape(url: string, token = TOKEN) {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200, await response.clone().text());
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return response.text();
}

test('a bearer token matches only itself, in the Bearer scheme', () => {
  assert.equal(bearerTokenMatches(`Bearer ${TOKEN}`, TOKEN), true);
  assert.equal(bearerTokenMatches(`Bearer ${TOKEN}x`, TOKEN), false);
  assert.equal(bearerTokenMatches(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN), false);
  assert.equal(bearerTokenMatches(`Basic ${TOKEN}`, TOKEN), false);
  assert.equal(bearerTokenMatches(TOKEN, TOKEN), false);
  assert.equal(bearerTokenMatches(undefined, TOKEN), false);
  assert.equal(bearerTokenMatches('Bearer ', TOKEN), false);
});

test('without a token or a port, there are no metrics: /metrics is an unknown page', async (t) => {
  const { env, drop } = await environment('sqlite');
  t.after(drop);
  const server = await served(env);
  t.after(() => server.close());
  const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 404);
});

test('a metrics token that is too short is refused at start, with the reason', () => {
  assert.throws(
    () => loadConfig({ GATEHOUSE_METRICS_TOKEN: 'short' }, tmpdir()),
    /metricsToken: must be 24 to 512 characters/,
  );
});

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`metrics on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    const parts = skip ? undefined : await environment(engine);
    const metricsPort = await freeTcpPort();
    const server = parts
      ? await served({
          ...parts.env,
          GATEHOUSE_METRICS_TOKEN: TOKEN,
          GATEHOUSE_METRICS_PORT: String(metricsPort),
        })
      : undefined;
    after(async () => {
      await server?.close();
      await parts?.drop();
    });

    test('GET /metrics on the portal needs the bearer token', { skip: skip ?? false }, async () => {
      assert.ok(server);
      const bare = await fetch(`${server.url}/metrics`);
      assert.equal(bare.status, 401);
      assert.match(bare.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.match(await bare.text(), /GATEHOUSE_METRICS_TOKEN/);
      const wrong = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 401);
      assert.match(await scrape(`${server.url}/metrics`), /process_resident_memory_bytes/);
    });

    test('sign-ins by method and outcome, hash time, push delivery, lockouts, sessions', {
      skip: skip ?? false,
    }, async () => {
      assert.ok(server);
      const flows = pushJourneys({ core: server.core, pcApp: server.app, clock: systemClock });
      const { email, phone } = await flows.registered();
      const locked = `locked-${randomBytes(3).toString('hex')}@example.org`;
      await addUser(server.core, locked);
      const before = await scrape(`${server.url}/metrics`);
      const delta = (text: string, name: string, labels?: Record<string, string>) =>
        sample(text, name, labels) - sample(before, name, labels);

      // One wrong password, then a full sign-in with push (number matching).
      const pc = new InjectClient(server.app);
      const wrong = await pc.post(
        '/signin',
        { email, password: 'not-the-password' },
        { formPage: '/signin' },
      );
      assert.equal(wrong.statusCode, 401);
      const posted = await pc.post('/signin', { email, password: TEST_PASSWORD }, { formPage: '/signin' });
      assert.equal(posted.headers.location, '/mfa/verify');
      const number = numberOn((await pc.get('/mfa/verify')).body);
      assert.ok(number);
      const [requestId] = await phone.pendingIds();
      assert.ok(requestId);
      await phone.pendingIds(); // read twice: one delivery still
      assert.equal((await phone.answer(requestId, 'approve', number)).json().status, 'approved');
      // The PC moves on: that is when the second factor counts.
      const status = (await pc.get('/mfa/verify/status')).json() as { status: string; next: string };
      assert.equal(status.status, 'approved');
      assert.equal((await pc.get(status.next)).statusCode, 200);
      // Five wrong passwords lock the other account (the default lockout rule).
      for (let i = 0; i < 5; i++) {
        const other = new InjectClient(server.app);
        await other.post(
          '/signin',
          { email: locked, password: 'wrong-wrong-wrong' },
          { formPage: '/signin' },
        );
      }

      const text = await scrape(`${server.url}/metrics`);
      const steps = 'gatehouse_sign_in_steps_total';
      assert.equal(delta(text, steps, { method: 'password', outcome: 'failure' }), 6);
      assert.equal(delta(text, steps, { method: 'password', outcome: 'locked' }), 1);
      assert.equal(delta(text, steps, { method: 'password', outcome: 'success' }), 1);
      assert.equal(delta(text, steps, { method: 'push', outcome: 'success' }), 1);
      assert.equal(delta(text, 'gatehouse_lockouts_total'), 1);
      // Seven passwords were checked, each one argon2id verification, each timed.
      assert.equal(delta(text, 'gatehouse_password_hash_seconds_count'), 7);
      assert.ok(delta(text, 'gatehouse_password_hash_seconds_sum') > 0);
      // The request reached the app once (the second read is not a second delivery).
      assert.equal(delta(text, 'gatehouse_push_delivery_seconds_count'), 1);
      assert.ok(sample(text, 'gatehouse_active_sessions', { stage: 'complete' }) >= 1, text);
      if (engine === 'postgres') {
        assert.equal(sample(text, 'gatehouse_database_connections', { state: 'max' }), 10);
        assert.ok(sample(text, 'gatehouse_database_connections', { state: 'open' }) >= 1);
      } else {
        assert.doesNotMatch(text, /gatehouse_database_connections\{/);
      }
    });

    test('the metrics port of its own answers /metrics only, and asks for the token too', {
      skip: skip ?? false,
    }, async () => {
      assert.ok(server);
      const url = `http://127.0.0.1:${metricsPort}`;
      assert.equal((await fetch(`${url}/metrics`)).status, 401);
      assert.match(await scrape(`${url}/metrics`), /gatehouse_sign_in_steps_total/);
      const page = await fetch(`${url}/signin`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(page.status, 404);
    });
  });
}
