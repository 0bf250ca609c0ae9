import { Agent, request as httpRequest } from 'node:http';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

// node:http with keep-alive rather than fetch: fetch costs the load generator about a millisecond
// of CPU per request, which on a 2-core machine is taken from the server being measured.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function send(url: URL, method: string, headers: Record<string, string>, body?: string) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }>((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      {
        method,
        agent,
        headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/**
 * The part of a Fastify app that the test clients (InjectClient, TestDevice) use, `inject`, over
 * real HTTP to a server in another process: the benchmark then drives the built server exactly as
 * the tests drive an in-process one, and the server's CPU can be measured apart from the client's.
 */
export function httpApp(baseUrl: string): FastifyInstance {
  const inject = async (options: {
    method?: string;
    url: string;
    headers?: Record<string, string>;
    payload?: string | object;
  }) => {
    const json = typeof options.payload === 'object';
    const headers: Record<string, string> = { ...options.headers };
    if (json) headers['content-type'] = 'application/json';
    const response = await send(
      new URL(options.url, baseUrl),
      options.method ?? 'GET',
      headers,
      options.payload === undefined
        ? undefined
        : json
          ? JSON.stringify(options.payload)
          : (options.payload as string),
    );
    const setCookie = response.headers['set-cookie'] ?? [];
    return {
      statusCode: response.status,
      headers: response.headers,
      body: response.body,
      payload: response.body,
      json: () => JSON.parse(response.body),
      cookies: (Array.isArray(setCookie) ? setCookie : [setCookie]).map(parseSetCookie),
    } as unknown as LightMyRequestResponse;
  };
  return { inject } as unknown as FastifyInstance;
}

function parseSetCookie(header: string) {
  const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
  const equals = pair.indexOf('=');
  const cookie: {
    name: string;
    value: string;
    path?: string;
    domain?: string;
    secure?: boolean;
    maxAge?: number;
    expires?: Date;
  } = { name: pair.slice(0, equals), value: pair.slice(equals + 1) };
  for (const attribute of attributes) {
    const [key = '', value = ''] = attribute.split('=');
    const name = key.toLowerCase();
    if (name === 'path') cookie.path = value;
    else if (name === 'domain') cookie.domain = value;
    else if (name === 'secure') cookie.secure = true;
    else if (name === 'max-age') cookie.maxAge = Number(value);
    else if (name === 'expires') cookie.expires = new Date(value);
  }
  return cookie;
}
