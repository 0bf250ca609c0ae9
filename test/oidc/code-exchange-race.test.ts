import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { postgresUnavailable, type TestDatabase, testDatabase } from '../helpers/engines.ts';
import { HttpBrowser } from '../helpers/http-browser.ts';
import { addUser, startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { REDIRECT, relyingParty } from './relying-party.ts';

const PARALLEL = 200;

/**
 * Keep-alive connections to a portal, opened before the race so that the requests reach the
 * server together instead of one connection set-up at a time.
 */
async function warmConnections(portal: TestPortal, count: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: count });
  await Promise.all(Array.from({ length: count }, () => send(portal, agent, 'GET', '/healthz')));
  return agent;
}

function send(portal: TestPortal, agent: http.Agent, method: string, path: string, headers = {}, body = '') {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = http.request(new URL(path, portal.url), { method, agent, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** One token request for the code, as the application would make it (client_secret_basic). */
async function exchangeAt(
  portal: TestPortal,
  agent: http.Agent,
  client: { clientId: string; clientSecret: string },
  code: string,
  verifier: string,
) {
  const credentials = Buffer.from(
    `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
  ).toString('base64');
  const response = await send(
    portal,
    agent,
    'POST',
    '/oidc/token',
    { authorization: `Basic ${credentials}`, 'content-type': 'application/x-www-form-urlencoded' },
    new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    }).toString(),
  );
  const body = JSON.parse(response.text) as { access_token?: string; error?: string };
  return { status: response.status, body };
}

/**
 * One code, exchanged by PARALLEL requests at once (alternating between the instances): exactly
 * one token set comes back, every other request is answered invalid_grant.
 */
async function raceOneCode(portals: TestPortal[], email: string) {
  const rp = await relyingParty(portals[0]!);
  await addUser(portals[0]!.core, email);
  const browser = new HttpBrowser();
  const started = await rp.authorize(browser);
  const landed = await rp.typePassword(browser, started.page, email);
  const code = new URL(landed.url).searchParams.get('code');
  assert.ok(code, `a code at the application: ${landed.url}`);
  const agents = await Promise.all(portals.map((p) => warmConnections(p, PARALLEL / portals.length)));
  const answers = await Promise.all(
    Array.from({ length: PARALLEL }, (_, i) =>
      exchangeAt(portals[i % portals.length]!, agents[i % portals.length]!, rp, code, started.verifier),
    ),
  );
  for (const agent of agents) agent.destroy();
  const tokenSets = answers.filter((a) => a.status === 200 && a.body.access_token);
  const refused = answers.filter((a) => a.status === 400 && a.body.error === 'invalid_grant');
  return { answered: answers.length, tokenSets: tokenSets.length, refused: refused.length };
}

describe('an authorization code exchanged by 200 requests at once', () => {
  test('on SQLite, one instance: one token set, 199 invalid_grant', async () => {
    const portal = await startTestPortal({ listen: true, singleSignOn: true });
    try {
      const result = await raceOneCode([portal], 'race.sqlite@example.org');
      assert.deepEqual(result, { answered: PARALLEL, tokenSets: 1, refused: PARALLEL - 1 });
    } finally {
      await portal.close();
    }
  });

  describe('on PostgreSQL, two instances on one database', async () => {
    const skip = await postgresUnavailable();
    let database: TestDatabase;
    const portals: TestPortal[] = [];

    before(async () => {
      if (skip) return;
      database = testDatabase('postgres');
      // One after the other: the first makes the signing key, the second reads it.
      portals.push(await startTestPortal({ database, listen: true, singleSignOn: true }));
      portals.push(await startTestPortal({ database, listen: true, singleSignOn: true }));
    });
    after(async () => {
      for (const portal of portals) await portal.close();
      if (!skip) await database.drop();
    });

    test('requests alternate between the instances: one token set, 199 invalid_grant', {
      skip: skip ?? false,
    }, async () => {
      const result = await raceOneCode(portals, 'race.postgres@example.org');
      assert.deepEqual(result, { answered: PARALLEL, tokenSets: 1, refused: PARALLEL - 1 });
    });
  });
});
