import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/core/clock.ts';
import { pkiFolder } from '../helpers/pki.ts';
import { startTestPortal, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';
import { cardWorld } from '../helpers/smartcard.ts';

/** The directives of a Content-Security-Policy header, by name. */
function directives(header: string | null | undefined): Map<string, string> {
  assert.ok(header, 'a Content-Security-Policy header');
  return new Map(
    header
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => [d.split(/\s+/)[0] ?? '', d.slice(d.indexOf(' ') + 1)]),
  );
}

describe("base-uri 'none' on every kind of page", () => {
  const pki = pkiFolder();
  let portal: TestPortal;

  before(async () => {
    const world = cardWorld(pki);
    // Listening, so the smartcard certificate endpoint (a server of its own) runs too.
    portal = await startTestPortal({ listen: true, smartcard: { trust: world.trust } });
  });
  after(async () => {
    await portal.close();
    pki.remove();
  });

  test("the portal's pages: no <base> element may re-point their links and forms", async () => {
    const response = await fetch(`${portal.url}/signin`);
    assert.equal(response.status, 200);
    const csp = directives(response.headers.get('content-security-policy'));
    assert.equal(csp.get('base-uri'), "'none'");
    assert.equal(csp.get('form-action'), "'self'");
  });

  test('the authenticator web app, which has a policy of its own', async () => {
    const response = await fetch(`${portal.url}/authenticator/`);
    assert.equal(response.status, 200);
    assert.equal(directives(response.headers.get('content-security-policy')).get('base-uri'), "'none'");
  });

  test('the smartcard certificate endpoint', async () => {
    assert.ok(portal.certificateEndpointUrl);
    const response = await fetch(`${portal.certificateEndpointUrl}/signin`);
    await response.arrayBuffer();
    assert.equal(directives(response.headers.get('content-security-policy')).get('base-uri'), "'none'");
  });
});

describe('the waiting pages may open their event streams', () => {
  test("connect-src (or default-src) allows 'self', and the stream is on the portal itself", async () => {
    const portal = await startTestPortal();
    try {
      const flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
      const { email } = await flows.registered();
      const { pc } = await flows.pcAtVerification(email);
      const page = await pc.get('/mfa/verify');
      assert.match(page.body, /data-wait-events-url="\/mfa\/verify\/events"/);
      const csp = directives(page.headers['content-security-policy'] as string | undefined);
      const connect = csp.get('connect-src') ?? csp.get('default-src');
      assert.ok(connect?.split(/\s+/).includes("'self'"), `connect-src: ${connect}`);
    } finally {
      await portal.close();
    }
  });
});
