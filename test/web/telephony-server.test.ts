import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { configSchema } from '../../src/config/config.ts';
import { startServer } from '../../src/server.ts';
import { eventually } from '../helpers/eventually.ts';
import { InjectClient } from '../helpers/inject-client.ts';
import { addUser, startTestPortal, TEST_PASSWORD } from '../helpers/portal.ts';
import { type Smsc, startSmsc } from '../helpers/smsc.ts';
import { twilioSignature } from '../helpers/twilio-signing.ts';

const SMSC_ACCOUNT = { systemId: 'gatehouse', password: 'srvpw' };
const AUTH_TOKEN = 'server-auth-token-0123456789abcd';
const PUBLIC_URL = 'https://mfa.example.test';

let smsc: Smsc;
before(async () => {
  smsc = await startSmsc(SMSC_ACCOUNT);
});
after(() => smsc.close());

/** The settings an operator would write, for a server on a free port and a fresh SQLite file. */
const config = (extra: Record<string, unknown> = {}) =>
  configSchema.parse({
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    dataDir: mkdtempSync(join(tmpdir(), 'gatehouse-server-')),
    publicUrl: PUBLIC_URL,
    telephony: {
      voice: {
        provider: 'twilio',
        accountSid: `AC${'8c'.repeat(16)}`,
        authToken: AUTH_TOKEN,
        from: '+441632960001',
        apiBaseUrl: 'http://127.0.0.1:9',
      },
      text: { provider: 'smpp', url: smsc.url, ...SMSC_ACCOUNT, sourceAddress: 'Gatehouse' },
    },
    ...extra,
  });

const binds = () => smsc.events.filter((e) => e.startsWith('bind')).length;

test('the server starts the configured providers, serves their webhooks, and closes them on shutdown', async () => {
  const before = binds();
  const app = await startServer(config());
  try {
    await eventually('the server bound to the SMS centre', () => binds() === before + 1);
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const path = '/telephony/twilio/calls/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0/status';
    const form = { CallSid: `CA${'9d'.repeat(16)}`, CallStatus: 'no-answer' };
    const post = (signature?: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(signature ? { 'x-twilio-signature': signature } : {}),
        },
        body: new URLSearchParams(form),
      });
    // Signed for the public URL: accepted without a CSRF token (Twilio has none).
    assert.equal((await post(twilioSignature(AUTH_TOKEN, `${PUBLIC_URL}${path}`, form))).status, 204);
    const unsigned = await post();
    assert.equal(unsigned.status, 403);
    assert.equal(await unsigned.text(), 'Forbidden');
  } finally {
    await app.close();
  }
  assert.equal(smsc.events.at(-1), 'unbind', 'the SMPP link unbound at shutdown');
});

test('without any telephony provider the Phone method says it is unavailable', async () => {
  const portal = await startTestPortal();
  try {
    const account = await addUser(portal.core, 'nobody.to.call@example.org');
    await portal.core.enrolment.enable(account, '192.0.2.1');
    const pc = new InjectClient(portal.app);
    await pc.post('/signin', { email: account.email, password: TEST_PASSWORD }, { formPage: '/signin' });
    const refused = await pc.post(
      '/mfa/register/phone',
      { country: 'GB', number: '07400 400400', channel: 'call', office: '0' },
      { formPage: '/mfa/register/phone' },
    );
    assert.equal(refused.statusCode, 400);
    assert.match(refused.body, /We could not call or text your phone right now/);
  } finally {
    await portal.close();
  }
});

test('with the development phone on, it wins: the providers are not started', async () => {
  const before = binds();
  const app = await startServer(config({ developmentPhone: true }));
  try {
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    assert.equal((await fetch(`${base}/dev/phone`)).status, 200);
    const path = '/telephony/twilio/calls/0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0/status';
    const form = { CallStatus: 'no-answer' };
    const signed = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(AUTH_TOKEN, `${PUBLIC_URL}${path}`, form),
      },
      body: new URLSearchParams(form),
    });
    assert.notEqual(signed.status, 204, 'no Twilio webhooks');
  } finally {
    await app.close();
  }
  assert.equal(binds(), before, 'no bind to the SMS centre');
});
