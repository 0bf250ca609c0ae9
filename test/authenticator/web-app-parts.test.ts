import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  activationFromHash,
  base64urlBytes,
  deviceNameFor,
  groupCode,
  hostOf,
  secondsLeft,
  timeOfDay,
  typedNumber,
} from '../../src/authenticator/app/format.ts';
import {
  afterWrongPin,
  hashPin,
  pinMatches,
  pinProblem,
  pinWaitSeconds,
} from '../../src/authenticator/app/pin.ts';
import {
  derToP1363,
  screenLockPossibleAt,
  verifyAssertion,
} from '../../src/authenticator/app/screen-lock.ts';
import { DeviceAccount, type PendingRequest } from '../../src/authenticator/client/api.ts';
import {
  type EventSourceLike,
  reconnectDelay,
  watchRequests,
} from '../../src/authenticator/client/events.ts';
import { base64url, generateDeviceKeys, PROTOCOL_TAG } from '../../src/authenticator/client/signing.ts';

/** The web app's pure parts, without a browser (the app itself: test/e2e/authenticator-app.test.ts). */

describe('the app screens’ helpers', () => {
  test('codes are shown in two groups of three, with the seconds left in their step', () => {
    assert.equal(groupCode('012345'), '012 345');
    assert.equal(groupCode('12345678'), '12345678');
    assert.equal(secondsLeft(Date.UTC(2026, 0, 1, 0, 0, 0)), 30);
    assert.equal(secondsLeft(Date.UTC(2026, 0, 1, 0, 0, 29, 999)), 1);
    assert.equal(secondsLeft(Date.UTC(2026, 0, 1, 0, 0, 45), 60), 15);
  });

  test('the activation link is read from the fragment, and anything else is not', () => {
    const api = 'https://portal.example.org/api/authenticator/v1/activations/ABCDEFGHJKMNPQRSTUVW';
    assert.equal(activationFromHash(`#activate=${api}`), api);
    assert.equal(activationFromHash(`#activate=${encodeURIComponent(api)}`), api);
    assert.equal(activationFromHash('#activate='), undefined);
    assert.equal(activationFromHash('#other=1'), undefined);
    assert.equal(activationFromHash(''), undefined);
    assert.equal(activationFromHash('#activate=%E0%A4%A'), undefined);
  });

  test('the number typed must be two digits', () => {
    assert.equal(typedNumber('42'), '42');
    assert.equal(typedNumber(' 4 2 '), '42');
    assert.equal(typedNumber('4'), undefined);
    assert.equal(typedNumber('423'), undefined);
    assert.equal(typedNumber('4a'), undefined);
    assert.equal(typedNumber(''), undefined);
  });

  test('hosts, device names, times and VAPID keys', () => {
    assert.equal(hostOf('https://portal.example.org:8443'), 'portal.example.org:8443');
    assert.equal(hostOf('not a url'), 'not a url');
    assert.equal(
      deviceNameFor('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36'),
      'Gatehouse web app on Android',
    );
    assert.equal(
      deviceNameFor('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)'),
      'Gatehouse web app on iPhone',
    );
    assert.equal(deviceNameFor(''), 'Gatehouse web app on a browser');
    assert.ok(deviceNameFor('x'.repeat(500)).length <= 64);
    assert.match(timeOfDay('2026-11-30T14:05:00Z'), /^\d\d:\d\d$/);
    assert.equal(timeOfDay('not a date'), '');
    assert.deepEqual([...base64urlBytes('AQID_-8')], [1, 2, 3, 255, 239]);
  });
});

describe('the PIN', () => {
  test('at least 4 digits, digits only, not one digit repeated', () => {
    assert.equal(pinProblem('2468'), undefined);
    assert.equal(pinProblem('135790'), undefined);
    assert.equal(pinProblem('123'), 'Your PIN must be at least 4 digits');
    assert.equal(pinProblem('12a4'), 'Enter numbers only');
    assert.equal(pinProblem(''), 'Enter numbers only');
    assert.equal(pinProblem('1111'), 'Choose a PIN that is not the same digit repeated');
    assert.equal(pinProblem('1234567890123'), 'Your PIN must be 12 digits or fewer');
  });

  test('is kept as a salted PBKDF2 hash that only the same PIN matches', async () => {
    const stored = await hashPin('2468', 1000);
    assert.equal(stored.iterations, 1000);
    assert.ok(!JSON.stringify(stored).includes('2468'));
    assert.equal(await pinMatches('2468', stored), true);
    assert.equal(await pinMatches('2469', stored), false);
    assert.equal(await pinMatches('', stored), false);
    const again = await hashPin('2468', 1000);
    assert.notEqual(again.salt, stored.salt, 'a new salt each time');
    assert.notEqual(again.hash, stored.hash);
  });
});

describe('wrong PINs', () => {
  test('4 are free, then each waits longer, up to an hour', () => {
    const now = 1_000_000;
    let attempts = afterWrongPin(undefined, now);
    for (let i = 2; i <= 4; i++) attempts = afterWrongPin(attempts, now);
    assert.deepEqual(attempts, { failures: 4, lockedUntil: 0 });
    assert.equal(pinWaitSeconds(attempts, now), 0);
    const waits: number[] = [];
    for (let i = 5; i <= 12; i++) {
      attempts = afterWrongPin(attempts, now);
      waits.push(pinWaitSeconds(attempts, now) / 60);
    }
    assert.deepEqual(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
    assert.equal(pinWaitSeconds(attempts, now + 60 * 60_000), 0);
    assert.equal(pinWaitSeconds(undefined, now), 0);
  });
});

describe('server-sent events of a device', () => {
  test('the events address is signed with the device key (protocol: "events")', async () => {
    const keys = await generateDeviceKeys(false);
    const device = new DeviceAccount('https://portal.example.org', 'device-1', keys.privateKey, () => 1234);
    const url = await device.eventsUrl();
    assert.equal(
      url.origin + url.pathname,
      'https://portal.example.org/api/authenticator/v1/devices/device-1/events',
    );
    assert.equal(url.searchParams.get('ts'), '1234');
    const signature = Buffer.from(url.searchParams.get('sig') ?? '', 'base64url');
    const valid = await crypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-256' },
      keys.publicKey,
      signature,
      new TextEncoder().encode([PROTOCOL_TAG, 'events', 'device-1', '1234'].join('\n')),
    );
    assert.equal(valid, true);
    assert.equal(base64url(signature), url.searchParams.get('sig'));
  });

  test('reconnects with a fresh signature after an error, and backs off', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let signed = 0;
    const device = {
      eventsUrl: async () => new URL(`https://portal.example.org/events?n=${++signed}`),
    } as unknown as DeviceAccount;
    const sources: {
      url: string;
      listeners: Map<string, (event: { data?: unknown }) => void>;
      closed: boolean;
    }[] = [];
    const open = (url: string): EventSourceLike => {
      const source = { url, listeners: new Map(), closed: false };
      sources.push(source);
      return {
        addEventListener: (type, listener) => source.listeners.set(type, listener),
        close: () => {
          source.closed = true;
        },
      };
    };
    const seen: PendingRequest[][] = [];
    const connection: boolean[] = [];
    const watch = watchRequests(
      device,
      { onRequests: (r) => seen.push(r), onConnection: (c) => connection.push(c) },
      open,
    );
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    await settle();
    assert.equal(sources.length, 1);
    assert.equal(sources[0]?.url, 'https://portal.example.org/events?n=1');

    const request = { id: 'r1', purpose: 'sign_in' } as PendingRequest;
    sources[0]?.listeners.get('requests')?.({ data: JSON.stringify({ requests: [request] }) });
    sources[0]?.listeners.get('requests')?.({ data: 'not json' });
    assert.deepEqual(seen, [[request]]);

    sources[0]?.listeners.get('error')?.({});
    assert.equal(sources[0]?.closed, true);
    assert.deepEqual(connection, [true, false]);
    t.mock.timers.tick(reconnectDelay(0));
    await settle();
    assert.equal(sources.length, 2);
    assert.equal(sources[1]?.url, 'https://portal.example.org/events?n=2', 'signed afresh');

    watch.stop();
    assert.equal(sources[1]?.closed, true);
    sources[1]?.listeners.get('error')?.({});
    t.mock.timers.tick(60_000);
    await settle();
    assert.equal(sources.length, 2, 'no reconnection once stopped');
  });

  test('the reconnection delay doubles up to 30 seconds', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 10].map(reconnectDelay),
      [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000],
    );
  });
});

describe('Web Push calls of a device', () => {
  test('the push key, and a subscription signed with the device key (protocol: "subscribe")', async (t) => {
    const keys = await generateDeviceKeys(false);
    const device = new DeviceAccount('https://portal.example.org', 'device-1', keys.privateKey, () => 99);
    const calls: { url: string; method: string; body?: string }[] = [];
    let pushKeyStatus = 200;
    t.mock.method(globalThis, 'fetch', async (url: URL, init: RequestInit) => {
      calls.push({ url: String(url), method: init.method ?? 'GET', body: init.body as string | undefined });
      if (String(url).endsWith('/push-key'))
        return pushKeyStatus === 200
          ? Response.json({ vapidPublicKey: 'BKey' })
          : Response.json({ error: { code: 'request_not_found', message: 'x' } }, { status: 404 });
      return Response.json({ subscribed: true });
    });
    assert.equal(await device.pushKey(), 'BKey');
    pushKeyStatus = 404;
    assert.equal(await device.pushKey(), undefined, 'a server without Web Push');

    const subscription = {
      endpoint: 'https://fcm.googleapis.com/fcm/send/abc',
      keys: { p256dh: 'p', auth: 'a' },
    };
    await device.subscribePush(subscription);
    const last = calls.at(-1)!;
    assert.equal(
      last.url,
      'https://portal.example.org/api/authenticator/v1/devices/device-1/push-subscription',
    );
    assert.equal(last.method, 'POST');
    const body = JSON.parse(last.body ?? '{}') as {
      subscription: unknown;
      timestamp: string;
      signature: string;
    };
    assert.deepEqual(body.subscription, subscription);
    assert.equal(body.timestamp, '99');
    const valid = await crypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-256' },
      keys.publicKey,
      Buffer.from(body.signature, 'base64url'),
      new TextEncoder().encode(
        [PROTOCOL_TAG, 'subscribe', 'device-1', subscription.endpoint, '99'].join('\n'),
      ),
    );
    assert.equal(valid, true);
  });
});

/** r || s as ASN.1 DER, the form authenticators sign in. */
function p1363ToDer(signature: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let value = bytes;
    while (value.length > 1 && value[0] === 0 && (value[1] ?? 0) < 0x80) value = value.subarray(1);
    if ((value[0] ?? 0) >= 0x80) value = Uint8Array.from([0, ...value]);
    return [0x02, value.length, ...value];
  };
  const body = [...integer(signature.subarray(0, 32)), ...integer(signature.subarray(32))];
  return Uint8Array.from([0x30, body.length, ...body]);
}

describe('the screen lock (WebAuthn) check', () => {
  const origin = 'https://portal.example.org';

  async function assertion(
    options: { flags?: number; challenge?: Uint8Array; origin?: string; type?: string } = {},
  ) {
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const challenge = crypto.getRandomValues(new Uint8Array(32));
    const authenticatorData = new Uint8Array(37);
    authenticatorData[32] = options.flags ?? 0x05;
    const clientDataJSON = new TextEncoder().encode(
      JSON.stringify({
        type: options.type ?? 'webauthn.get',
        challenge: base64url(options.challenge ?? challenge),
        origin: options.origin ?? origin,
      }),
    );
    const clientHash = new Uint8Array(await crypto.subtle.digest('SHA-256', clientDataJSON));
    const signed = new Uint8Array([...authenticatorData, ...clientHash]);
    const raw = new Uint8Array(
      await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keys.privateKey, signed),
    );
    const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.publicKey));
    return {
      publicKey: base64url(spki),
      challenge,
      origin,
      authenticatorData,
      clientDataJSON,
      signature: p1363ToDer(raw),
      raw,
    };
  }

  test('a DER signature becomes r || s', async () => {
    const { signature, raw } = await assertion();
    assert.deepEqual([...(derToP1363(signature) ?? [])], [...raw]);
    assert.equal(derToP1363(Uint8Array.from([0x31, 0])), undefined);
  });

  test('only a user-verified assertion of the credential, on this challenge and origin, passes', async () => {
    assert.equal(await verifyAssertion(await assertion()), true);
    assert.equal(await verifyAssertion(await assertion({ flags: 0x01 })), false, 'present but not verified');
    assert.equal(await verifyAssertion(await assertion({ flags: 0x04 })), false, 'not present');
    assert.equal(
      await verifyAssertion(await assertion({ challenge: new Uint8Array(32) })),
      false,
      'another challenge',
    );
    assert.equal(await verifyAssertion(await assertion({ origin: 'https://evil.example' })), false);
    assert.equal(await verifyAssertion(await assertion({ type: 'webauthn.create' })), false);
    const other = await assertion();
    assert.equal(
      await verifyAssertion({ ...(await assertion()), publicKey: other.publicKey }),
      false,
      'another key',
    );
    const tampered = await assertion();
    tampered.authenticatorData[36] = 1;
    assert.equal(await verifyAssertion(tampered), false, 'a changed signed message');
  });

  test('needs a domain name in a secure context', () => {
    assert.equal(screenLockPossibleAt('portal.example.org', true), true);
    assert.equal(screenLockPossibleAt('localhost', true), true);
    assert.equal(screenLockPossibleAt('portal.example.org', false), false);
    assert.equal(screenLockPossibleAt('127.0.0.1', true), false);
    assert.equal(screenLockPossibleAt('[::1]', true), false);
  });
});
