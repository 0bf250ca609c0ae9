import { webcrypto } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/**
 * A phone for server tests, speaking docs/authenticator-protocol.md over app.inject with real
 * ECDSA P-256 keys (Node's WebCrypto, the same API the web app uses).
 */
export class TestDevice {
  deviceId = '';
  totp?: { secret: string };
  private constructor(
    private app: FastifyInstance,
    private readonly keys: webcrypto.CryptoKeyPair,
    readonly publicKey: webcrypto.JsonWebKey,
    /** The phone's clock, which signs each call's timestamp. */
    private readonly now: () => number,
  ) {}

  static async create(app: FastifyInstance, now: () => number = Date.now): Promise<TestDevice> {
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const { kty, crv, x, y } = await webcrypto.subtle.exportKey('jwk', keys.publicKey);
    return new TestDevice(app, keys, { kty, crv, x, y }, now);
  }

  /** The same phone, talking to another server process from now on. */
  retarget(app: FastifyInstance): void {
    this.app = app;
  }

  async sign(...lines: string[]): Promise<string> {
    const data = new TextEncoder().encode(['gatehouse-authenticator-v1', ...lines].join('\n'));
    const signature = await webcrypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      this.keys.privateKey,
      data,
    );
    return Buffer.from(signature).toString('base64url');
  }

  async activate(code: string, deviceName = 'Test phone') {
    const response = await this.app.inject({
      method: 'POST',
      url: `/api/authenticator/v1/activations/${code}`,
      payload: { publicKey: this.publicKey, deviceName },
    });
    if (response.statusCode === 200) {
      const body = response.json() as { deviceId: string; totp: { secret: string } };
      this.deviceId = body.deviceId;
      this.totp = body.totp;
    }
    return response;
  }

  async requests(timestamp = this.now()) {
    const ts = String(timestamp);
    const sig = await this.sign('list', this.deviceId, ts);
    return this.app.inject({
      url: `/api/authenticator/v1/devices/${this.deviceId}/requests?ts=${ts}&sig=${sig}`,
    });
  }

  /** The signed path of this device's event stream (protocol: "events"), for a real HTTP client. */
  async eventsPath(timestamp = this.now()): Promise<string> {
    const ts = String(timestamp);
    const sig = await this.sign('events', this.deviceId, ts);
    return `/api/authenticator/v1/devices/${this.deviceId}/events?ts=${ts}&sig=${sig}`;
  }

  async pendingIds(): Promise<string[]> {
    const response = await this.requests();
    return (response.json() as { requests: { id: string }[] }).requests.map((r) => r.id);
  }

  async subscribe(subscription: { endpoint: string; keys: { p256dh: string; auth: string } }) {
    const timestamp = String(this.now());
    const signature = await this.sign('subscribe', this.deviceId, subscription.endpoint, timestamp);
    return this.app.inject({
      method: 'POST',
      url: `/api/authenticator/v1/devices/${this.deviceId}/push-subscription`,
      payload: { subscription, timestamp, signature },
    });
  }

  async answer(
    requestId: string,
    decision: 'approve' | 'deny',
    number = '',
    options: { report?: boolean; timestamp?: number; signer?: TestDevice; deviceId?: string } = {},
  ) {
    const timestamp = String(options.timestamp ?? this.now());
    const report = options.report ?? false;
    const signer = options.signer ?? this;
    const signature = await signer.sign(
      'answer',
      requestId,
      decision,
      decision === 'approve' ? number : '',
      report ? '1' : '0',
      timestamp,
    );
    return this.app.inject({
      method: 'POST',
      url: `/api/authenticator/v1/requests/${requestId}/answer`,
      payload: {
        deviceId: options.deviceId ?? this.deviceId,
        decision,
        number,
        report,
        timestamp,
        signature,
      },
    });
  }
}
