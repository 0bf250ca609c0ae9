import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type TwilioForm = Record<string, string | string[]>;

export interface TwilioRequest {
  method: string;
  path: string;
  form: TwilioForm;
  /** The Basic credentials the client sent: account SID and auth token. */
  username: string;
  password: string;
}

/**
 * A local stand-in for Twilio's REST API (the part Gatehouse uses): POST
 * /2010-04-01/Accounts/{Sid}/Calls.json and Messages.json with Twilio's form parameters, answered
 * with JSON shaped like Twilio's, and Twilio's error bodies for bad credentials or `failNext`.
 */
export async function startTwilioStandIn(account: { sid: string; authToken: string }) {
  const requests: TwilioRequest[] = [];
  let nextFailure: { status: number; code: number; message: string } | undefined;

  const server = createServer((request, response) => {
    collect(request).then(
      (body) => answer(request, response, body),
      () => response.destroy(),
    );
  });

  function answer(request: IncomingMessage, response: ServerResponse, body: string) {
    const [username = '', password = ''] = Buffer.from(
      (request.headers.authorization ?? '').replace(/^Basic /, ''),
      'base64',
    )
      .toString()
      .split(':');
    const form: TwilioForm = {};
    for (const [key, value] of new URLSearchParams(body)) {
      const previous = form[key];
      form[key] = previous === undefined ? value : [previous, value].flat();
    }
    const path = request.url ?? '';
    requests.push({ method: request.method ?? '', path, form, username, password });
    const resource = new RegExp(`^/2010-04-01/Accounts/${account.sid}/(Calls|Messages)\\.json$`).exec(path);
    if (username !== account.sid || password !== account.authToken)
      return error(response, 401, 20003, 'Authentication Error - invalid username');
    if (!resource || request.method !== 'POST')
      return error(response, 404, 20404, 'The requested resource was not found');
    if (nextFailure) {
      const failure = nextFailure;
      nextFailure = undefined;
      return error(response, failure.status, failure.code, failure.message);
    }
    const now = new Date().toUTCString();
    const common = {
      account_sid: account.sid,
      to: form.To,
      date_created: now,
      date_updated: now,
      api_version: '2010-04-01',
    };
    const json =
      resource[1] === 'Calls'
        ? {
            ...common,
            sid: sid('CA'),
            from: form.From,
            status: 'queued',
            direction: 'outbound-api',
            uri: `${path.slice(0, -5)}/${sid('CA')}.json`,
          }
        : {
            ...common,
            sid: sid('SM'),
            from: form.From ?? null,
            messaging_service_sid: form.MessagingServiceSid ?? null,
            body: form.Body,
            status: 'queued',
            direction: 'outbound-api',
            num_segments: '1',
          };
    response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(json));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    /** Requests to one resource (Calls or Messages) that Twilio would have accepted or refused. */
    posted: (resource: 'Calls' | 'Messages') => requests.filter((r) => r.path.endsWith(`/${resource}.json`)),
    failNext(status: number, code: number, message: string) {
      nextFailure = { status, code, message };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type TwilioStandIn = Awaited<ReturnType<typeof startTwilioStandIn>>;

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

function error(response: ServerResponse, status: number, code: number, message: string) {
  response
    .writeHead(status, { 'content-type': 'application/json' })
    .end(JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }));
}

function collect(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString()));
    request.on('error', reject);
  });
}
