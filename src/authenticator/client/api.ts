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
