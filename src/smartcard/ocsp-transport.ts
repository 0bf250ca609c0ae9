import type { OcspTransport } from '../core/methods/smartcard/ocsp.ts';

/** OCSP answers are a few kilobytes; a responder that sends more is not one. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** RFC 6960 appendix A.1: the request POSTed as application/ocsp-request, within `timeoutSeconds`. */
export function httpOcspTransport(timeoutSeconds: number): OcspTransport {
  return async (url, request) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
      body: new Uint8Array(request),
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    });
    if (!response.ok) throw new Error(`OCSP responder answered HTTP ${response.status}`);
    const body = new Uint8Array(await response.arrayBuffer());
    if (body.length > MAX_RESPONSE_BYTES) throw new Error('OCSP response too large');
    return body;
  };
}
