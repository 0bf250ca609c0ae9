import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oidc from 'openid-client';
import { inboxPage, signedOutPage } from './pages.ts';

export interface MailOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  port?: number;
  /** Where Mail is reached (its callback is <baseUrl>/callback); default http://127.0.0.1:<port>. */
  baseUrl?: string;
  /** e.g. urn:gatehouse:acr:mfa to demand MFA. */
  acrValues?: string;
}

interface MailSession {
  pending?: { verifier: string; state: string };
  tokens?: { idToken: string; claims: oidc.IDToken; name: string; email: string };
}

const COOKIE = 'mail_session';

/**
 * "Mail": a small relying party that signs its users in through Gatehouse with openid-client
 * (authorization code flow, PKCE and state), to show the single sign-on loop end to end.
 */
export async function startMailApp(options: MailOptions): Promise<{ url: string; close(): Promise<void> }> {
  const sessions = new Map<string, MailSession>();
  let config: oidc.Configuration | undefined;
  const configuration = async () => {
    config ??= await oidc.discovery(
      new URL(options.issuer),
      options.clientId,
      options.clientSecret,
      undefined,
      {
        execute: new URL(options.issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      },
    );
    return config;
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`Mail could not complete the request: ${(error as Error).message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const baseUrl = options.baseUrl ?? `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const redirectUri = `${baseUrl}/callback`;

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const url = new URL(request.url ?? '/', baseUrl);
    const { id, session } = sessionOf(request, response);
    const html = (status: number, body: string) => {
      response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(body);
    };
    if (request.method === 'GET' && url.pathname === '/') {
      return html(200, session.tokens ? inboxPage(session.tokens) : signedOutPage());
    }
    // `Sign in` here (POST), or a login initiated by Gatehouse (GET with `iss`, OpenID Connect
    // Core 4): its front page's link to Mail starts the sign-in at once, only from its issuer.
    const initiated = request.method === 'GET' && url.pathname === '/login';
    if (initiated && url.searchParams.get('iss') !== options.issuer) return redirect(response, '/');
    if ((request.method === 'POST' || initiated) && url.pathname === '/login') {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      session.pending = { verifier, state };
      const target = oidc.buildAuthorizationUrl(await configuration(), {
        redirect_uri: redirectUri,
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        ...(options.acrValues ? { acr_values: options.acrValues } : {}),
      });
      return redirect(response, target.toString());
    }
    if (request.method === 'GET' && url.pathname === '/callback') {
      const pending = session.pending;
      session.pending = undefined;
      if (!pending) return html(400, signedOutPage('The sign-in was not started here. Select Sign in.'));
      if (url.searchParams.get('error')) {
        return html(
          403,
          signedOutPage(
            `Gatehouse did not sign you in: ${url.searchParams.get('error_description') ?? url.searchParams.get('error')}`,
          ),
        );
      }
      const tokens = await oidc.authorizationCodeGrant(await configuration(), url, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
      });
      const claims = tokens.claims();
      if (!claims || !tokens.id_token) throw new Error('no ID token');
      const info = await oidc.fetchUserInfo(await configuration(), tokens.access_token, claims.sub);
      session.tokens = {
        idToken: tokens.id_token,
        claims,
        name: String(info.name ?? ''),
        email: String(info.email ?? ''),
      };
      return redirect(response, '/');
    }
    if (request.method === 'POST' && url.pathname === '/logout') {
      const idToken = session.tokens?.idToken;
      sessions.delete(id);
      if (!idToken) return redirect(response, '/');
      const target = oidc.buildEndSessionUrl(await configuration(), {
        id_token_hint: idToken,
        post_logout_redirect_uri: `${baseUrl}/`,
      });
      return redirect(response, target.toString());
    }
    if (request.method === 'GET' && url.pathname === '/mail.css') {
      response.writeHead(200, { 'content-type': 'text/css' });
      return response.end(STYLES);
    }
    return html(404, signedOutPage('Page not found.'));
  }

  function sessionOf(request: IncomingMessage, response: ServerResponse) {
    const cookie = /(?:^|;\s*)mail_session=([A-Za-z0-9_-]{43})/.exec(request.headers.cookie ?? '')?.[1];
    const existing = cookie ? sessions.get(cookie) : undefined;
    if (cookie && existing) return { id: cookie, session: existing };
    const id = randomBytes(32).toString('base64url');
    const session: MailSession = {};
    sessions.set(id, session);
    response.setHeader('set-cookie', `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`);
    return { id, session };
  }

  return {
    url: baseUrl,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function redirect(response: ServerResponse, location: string) {
  response.writeHead(303, { location });
  response.end();
}

const STYLES = `body{font-family:Arial,sans-serif;margin:0;color:#212b32;background:#f0f4f5}
header{background:#330072;color:#fff;padding:16px 24px;font-size:1.5rem;font-weight:700}
main{max-width:40rem;margin:24px auto;padding:0 24px}
button{font-size:1.1rem;padding:10px 18px;background:#007f3b;color:#fff;border:0;box-shadow:0 4px 0 #00401e;cursor:pointer}
button:focus{outline:3px solid #ffeb3b;outline-offset:2px}
dt{font-weight:700}dd{margin:0 0 12px}`;
