import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { TelephonyError } from '../provider.ts';

/**
 * The official client's HTTP layer, sending to another address than *.twilio.com: a forwarding
 * proxy, or a local stand-in in tests. Passed through the client's documented `httpClient` option.
 */
class RedirectedRequestClient extends twilio.RequestClient {
  constructor(
    private readonly base: URL,
    timeoutMs: number,
  ) {
    super({ timeout: timeoutMs, keepAlive: false });
  }

  override request<TData>(options: RequestClient.RequestOptions<TData>) {
    const uri = new URL(options.uri);
    const path = `${this.base.pathname.replace(/\/+$/, '')}${uri.pathname}${uri.search}`;
    return super.request<TData>({ ...options, uri: new URL(path, this.base.origin).href });
  }
}

export interface ClientSettings {
  accountSid: string;
  authToken: string;
  apiBaseUrl?: string | undefined;
  requestTimeoutSeconds: number;
}

/** The official client, with a timeout, and no retries of its own (the user can try again). */
export function twilioClient(settings: ClientSettings): twilio.Twilio {
  const timeoutMs = settings.requestTimeoutSeconds * 1000;
  const httpClient = settings.apiBaseUrl
    ? new RedirectedRequestClient(new URL(settings.apiBaseUrl), timeoutMs)
    : new twilio.RequestClient({ timeout: timeoutMs });
  return twilio(settings.accountSid, settings.authToken, { httpClient, autoRetry: false });
}

/**
 * A failed API request in words for the operator's log and a stable code for the audit log.
 * Twilio's own message can quote the phone number, so only its numeric code is kept.
 */
export function twilioFailure(what: string, error: unknown): TelephonyError {
  if (error instanceof twilio.RestException) {
    return new TelephonyError(
      'twilio_rejected',
      `Twilio refused the ${what} (HTTP ${error.status}, Twilio error ${error.code ?? 'none'}: see ${error.moreInfo ?? 'https://www.twilio.com/docs/api/errors'})`,
    );
  }
  const code = (error as { code?: unknown }).code;
  return new TelephonyError(
    'twilio_unreachable',
    `Twilio could not be reached to send the ${what} (${typeof code === 'string' ? code : (error as Error).message})`,
  );
}
