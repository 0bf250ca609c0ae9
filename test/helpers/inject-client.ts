import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/** A minimal browser stand-in over app.inject: keeps cookies and reads the form's CSRF token. */
export class InjectClient {
  readonly cookies = new Map<string, string>();
  constructor(
    private app: FastifyInstance,
    private readonly remoteAddress = '203.0.113.5',
  ) {}

  /** The same browser (cookies and all), talking to another server process from now on. */
  retarget(app: FastifyInstance): void {
    this.app = app;
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    return this.send({ method: 'GET', url });
  }

  /** Posts a form; `_csrf` is taken from the last page fetched from `formPage` unless given. */
  async post(url: string, form: Record<string, string>, options: { formPage?: string; raw?: string } = {}) {
    let fields = form;
    if (!('_csrf' in form) && options.raw === undefined) {
      const page = await this.get(options.formPage ?? url);
      fields = { _csrf: csrfTokenIn(page.body), ...form };
    }
    return this.send({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: options.raw ?? new URLSearchParams(fields).toString(),
    });
  }

  async send(request: {
    method: 'GET' | 'POST';
    url: string;
    headers?: Record<string, string>;
    payload?: string;
  }): Promise<LightMyRequestResponse> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await this.app.inject({
      ...request,
      remoteAddress: this.remoteAddress,
      headers: { ...request.headers, ...(cookie ? { cookie } : {}) },
    });
    for (const c of response.cookies as SetCookie[]) {
      if (!prefixRulesMet(c)) continue;
      const cleared = c.value === '' || (c.expires !== undefined && c.expires.getTime() < Date.now());
      if (cleared) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    return response;
  }
}

interface SetCookie {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  secure?: boolean;
  maxAge?: number;
  expires?: Date;
}

/**
 * A browser ignores a __Host- cookie unless it is Secure, for Path=/ and without Domain, and a
 * __Secure- one unless it is Secure (RFC 6265bis §4.1.3): so does this stand-in.
 */
function prefixRulesMet(c: SetCookie): boolean {
  if (c.name.startsWith('__Host-')) return c.secure === true && c.path === '/' && c.domain === undefined;
  if (c.name.startsWith('__Secure-')) return c.secure === true;
  return true;
}

export function csrfTokenIn(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token in the page');
  return match[1];
}
