import { csrfTokenIn } from './inject-client.ts';

/**
 * A browser stand-in over real HTTP (for flows that cross servers, like single sign-on): keeps
 * cookies per host, follows redirects one at a time, and stops where told.
 */
export class HttpBrowser {
  private readonly jar = new Map<string, Map<string, string>>();
  lastUrl = '';

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}) {
    const target = new URL(url);
    const cookies = this.jar.get(target.host);
    const headers: Record<string, string> = {};
    if (cookies?.size) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(target, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    this.keepCookies(target.host, response.headers.getSetCookie());
    this.lastUrl = target.toString();
    return response;
  }

  /** Follows redirects from `url` until a page (not a redirect) or a URL that `stopAt` accepts. */
  async follow(
    url: string,
    stopAt: (url: string) => boolean = () => false,
    init: { form?: Record<string, string> } = {},
  ) {
    let response = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 20; hops++) {
      let next: string | undefined;
      let html = '';
      if (response.status >= 300 && response.status < 400) next = response.headers.get('location') ?? '';
      else {
        // A page that moves on by itself (the portal's hand-off to an application), as browsers do.
        html = await response.text();
        next = refreshTarget(html);
        if (next === undefined) return { url: current, response, html };
      }
      current = new URL(next, current).toString();
      if (stopAt(current)) return { url: current, response, html };
      response = await this.request(current);
    }
    return { url: current, response, html: await response.text() };
  }

  /** Submits a portal form found in `html` (its CSRF token included) and follows the redirects. */
  async submit(
    pageUrl: string,
    html: string,
    action: string,
    fields: Record<string, string>,
    stopAt?: (url: string) => boolean,
  ) {
    const form: Record<string, string> = { _csrf: csrfTokenIn(html), ...fields };
    const ret = /name="return" value="([^"]+)"/.exec(html)?.[1];
    if (ret) form.return = ret.replaceAll('&#x2F;', '/').replaceAll('&amp;', '&');
    return this.follow(new URL(action, pageUrl).toString(), stopAt, { form });
  }

  private keepCookies(host: string, setCookies: string[]) {
    const cookies = this.jar.get(host) ?? new Map<string, string>();
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      const expired = attributes.some(
        (a) => /^\s*expires=/i.test(a) && new Date(a.split('=')[1] ?? '') < new Date(),
      );
      if (!value || expired) cookies.delete(name);
      else cookies.set(name, value);
    }
    this.jar.set(host, cookies);
  }
}

/** The address of a `<meta http-equiv="refresh" content="0;url=...">`, entities decoded. */
export function refreshTarget(html: string): string | undefined {
  const content = /<meta http-equiv="refresh" content="0;url=([^"]*)">/i.exec(html)?.[1];
  return content
    ?.replaceAll('&#39;', "'")
    .replaceAll('&#92;', '\\')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&amp;', '&');
}
