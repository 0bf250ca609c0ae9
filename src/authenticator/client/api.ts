import { activationUrl } from './activation-link.ts';
import { type PublicJwk, signLines } from './signing.ts';

export class AuthenticatorError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface PendingRequest {
  id: string;
  purpose: 'registration' | 'sign_in' | 'approval';
  account: string;
  issuer: string;
  application: string;
  createdAt: string;
  expiresAt: string;
  clientAddress: string;
  location: string;
}

export interface PushSubscriptionData {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface Activated {
  deviceId: string;
  account: string;
  issuer: string;
  server: string;
  totp: { secret: string; algorithm: string; digits: number; period: number };
}

async function call<T>(url: URL | string, init?: { method: 'POST'; body: unknown }): Promise<T> {
  const response = await fetch(url, {
    method: init?.method ?? 'GET',
    headers: init ? { 'content-type': 'application/json' } : {},
    ...(init ? { body: JSON.stringify(init.body) } : {}),
  });
  const body = (await response.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
  if (!response.ok)
    throw new AuthenticatorError(
      body.error?.code ?? `http_${response.status}`,
      body.error?.message ?? response.statusText,
    );
  return body;
}

export function activate(
  link: string,
  publicKey: PublicJwk,
  deviceName: string,
  server?: string,
): Promise<Activated> {
  return call<Activated>(activationUrl(link, server), { method: 'POST', body: { publicKey, deviceName } });
}

/** One account of the authenticator: a device registered on one Gatehouse server. */
export class DeviceAccount {
  constructor(
    readonly server: string,
    readonly deviceId: string,
    private readonly privateKey: CryptoKey,
    private readonly now: () => number = Date.now,
  ) {}

  private api(path: string) {
    return new URL(`/api/authenticator/v1${path}`, this.server);
  }

  async requests(): Promise<PendingRequest[]> {
    const ts = String(this.now());
    const sig = await signLines(this.privateKey, ['list', this.deviceId, ts]);
    const url = this.api(`/devices/${encodeURIComponent(this.deviceId)}/requests`);
    url.searchParams.set('ts', ts);
    url.searchParams.set('sig', sig);
    return (await call<{ requests: PendingRequest[] }>(url)).requests;
  }

  /** The signed address of the device's server-sent events (valid for the signature's 5 minutes). */
  async eventsUrl(): Promise<URL> {
    const ts = String(this.now());
    const sig = await signLines(this.privateKey, ['events', this.deviceId, ts]);
    const url = this.api(`/devices/${encodeURIComponent(this.deviceId)}/events`);
    url.searchParams.set('ts', ts);
    url.searchParams.set('sig', sig);
    return url;
  }

  /** The server's VAPID public key, or undefined when it does not send Web Push. */
  async pushKey(): Promise<string | undefined> {
    try {
      return (await call<{ vapidPublicKey: string }>(this.api('/push-key'))).vapidPublicKey;
    } catch (error) {
      if (error instanceof AuthenticatorError && error.code === 'request_not_found') return undefined;
      throw error;
    }
  }

  /** Asks the server to wake this device by Web Push (a PushSubscription's toJSON()). */
  async subscribePush(subscription: PushSubscriptionData): Promise<void> {
    const timestamp = String(this.now());
    const signature = await signLines(this.privateKey, [
      'subscribe',
      this.deviceId,
      subscription.endpoint,
      timestamp,
    ]);
    await call(this.api(`/devices/${encodeURIComponent(this.deviceId)}/push-subscription`), {
      method: 'POST',
      body: { subscription, timestamp, signature },
    });
  }

  async answer(
    requestId: string,
    decision: 'approve' | 'deny',
    number = '',
    report = false,
  ): Promise<string> {
    const timestamp = String(this.now());
    const typed = decision === 'approve' ? number : '';
    const signature = await signLines(this.privateKey, [
      'answer',
      requestId,
      decision,
      typed,
      report ? '1' : '0',
      timestamp,
    ]);
    const body = { deviceId: this.deviceId, decision, number: typed, report, timestamp, signature };
    return (
      await call<{ status: string }>(this.api(`/requests/${encodeURIComponent(requestId)}/answer`), {
        method: 'POST',
        body,
      })
    ).status;
  }

  async remove(): Promise<void> {
    const timestamp = String(this.now());
    const signature = await signLines(this.privateKey, ['remove', this.deviceId, timestamp]);
    await call(this.api(`/devices/${encodeURIComponent(this.deviceId)}/remove`), {
      method: 'POST',
      body: { timestamp, signature },
    });
  }
}
