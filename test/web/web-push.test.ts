import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import ece from 'http_ece';
import pino from 'pino';
import { newVapidKeys, webPushNotifier } from '../../src/channels/web-push.ts';
import { defaultCoreSettings } from '../../src/core/index.ts';
import { manualClock } from '../helpers/clock.ts';
import { startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';
import { selfSignedCertificate } from '../helpers/tls.ts';

/** A push service on this machine, as RFC 8030 describes one: it takes POSTs to subscription URLs. */
function localPushService(tls: { key: string; cert: string }) {
  const received: { url: string; headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const server: Server = createServer(tls, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(201).end();
    });
  });
  return { server, received };
}

describe('Web Push wakes a closed authenticator app', () => {
  const clock = manualClock();
  const tls = selfSignedCertificate();
  const pushService = localPushService(tls);
  const vapid = newVapidKeys();
  let portal: TestPortal;
  let endpointBase = '';

  before(async () => {
    await new Promise<void>((resolve) => pushService.server.listen(0, '127.0.0.1', resolve));
    endpointBase = `https://127.0.0.1:${(pushService.server.address() as AddressInfo).port}`;
    portal = await startTestPortal({
      clock,
      vapidPublicKey: vapid.publicKey,
      notifier: webPushNotifier(
        vapid,
        'mailto:it@example.org',
        pino({ level: 'silent' }),
        new Agent({ ca: tls.cert }),
      ),
      settings: {
        push: { ...defaultCoreSettings.push, endpoints: { allowedHosts: ['127.0.0.1'] } },
      },
    });
  });
  after(async () => {
    await portal.close();
    pushService.server.close();
  });

  test('sends each request, encrypted for the device and signed with VAPID, without the number', async () => {
    const flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock });
    const { email, phone } = await flows.registered();
    const key = await portal.app.inject('/api/authenticator/v1/push-key');
    assert.equal(key.json().vapidPublicKey, vapid.publicKey);

    const browserKeys = createECDH('prime256v1');
    browserKeys.generateKeys();
    const auth = randomBytes(16).toString('base64url');
    const subscription = {
      endpoint: `${endpointBase}/push/device-1`,
      keys: { p256dh: browserKeys.getPublicKey().toString('base64url'), auth },
    };
    const subscribed = await phone.subscribe(subscription);
    assert.equal(subscribed.statusCode, 200, subscribed.body);

    const { number } = await flows.pcAtVerification(email);
    const [requestId] = await phone.pendingIds();
    const delivery = pushService.received.at(-1);
    assert.ok(delivery, 'the push service received a message');
    assert.equal(delivery.url, '/push/device-1');
    assert.equal(delivery.headers['content-encoding'], 'aes128gcm');
    assert.match(String(delivery.headers.authorization), /^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=/);
    assert.equal(delivery.headers.ttl, '120');
    const plaintext = ece.decrypt(delivery.body, {
      version: 'aes128gcm',
      privateKey: browserKeys,
      authSecret: auth,
    });
    const message = JSON.parse(plaintext.toString('utf8'));
    assert.deepEqual(message, {
      requestId,
      purpose: 'sign_in',
      application: 'Gatehouse Test Trust portal',
      account: email,
    });
    assert.ok(!plaintext.toString('utf8').includes(`"${number}"`), 'the number is never pushed');
  });

  test('refuses a subscription to a push service the operator did not allow', async () => {
    const flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock });
    const { phone } = await flows.registered();
    const browserKeys = createECDH('prime256v1');
    browserKeys.generateKeys();
    const response = await phone.subscribe({
      endpoint: 'https://10.0.0.1/internal-admin',
      keys: {
        p256dh: browserKeys.getPublicKey().toString('base64url'),
        auth: randomBytes(16).toString('base64url'),
      },
    });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.code, 'invalid_input');
  });
});
