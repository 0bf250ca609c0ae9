import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { systemClock } from '../../src/core/clock.ts';
import { startRadiusGateway } from '../../src/gateways/radius/server.ts';
import { run } from '../gateways/legacy-clients.ts';
import { type FreeRadius, startFreeRadius } from '../helpers/freeradius.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';

const APP_SECRET = 'org-radius-to-gatehouse-0123456789';
const PUSH_SECRET = 'org-radius-vpn-to-gatehouse-0123456789';

/** radclient (freeradius-utils) to FreeRADIUS: one try, `seconds` to answer. */
function radclient(server: FreeRadius, fields: Record<string, string>, seconds = 5) {
  const lines = Object.entries(fields).map(([k, v]) => `${k} = "${v}"`);
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn('radclient', [
      '-x',
      '-r',
      '1',
      '-t',
      String(seconds),
      `127.0.0.1:${server.port}`,
      'auth',
      server.secret,
    ]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}

describe('FreeRADIUS proxying to the RADIUS gateway (radtest → FreeRADIUS → Gatehouse)', () => {
  let portal: TestPortal;
  let gateway: Awaited<ReturnType<typeof startRadiusGateway>>;
  let freeradius: FreeRadius;
  let key = '';
  const email = 'wifi.user@example.org';

  before(async () => {
    portal = await startTestPortal();
    const account = await addUser(portal.core, email);
    await portal.core.enrolment.enable(account, '127.0.0.1');
    key = (await portal.core.appPasswords.create(account, 'Office Wi-Fi', '127.0.0.1')).keyPassword;
    gateway = await startRadiusGateway(
      portal.core,
      {
        host: '127.0.0.1',
        port: 0,
        clients: [
          // Each mode is its own client: the organisation's server sends from two addresses.
          {
            address: '127.0.0.4',
            secret: APP_SECRET,
            name: 'Organisation RADIUS',
            mode: 'app-password',
            requireMessageAuthenticator: true,
          },
          {
            address: '127.0.0.5',
            secret: PUSH_SECRET,
            name: 'Trust VPN',
            mode: 'password-and-push',
            requireMessageAuthenticator: true,
          },
        ],
      },
      pino({ level: process.env.GATEHOUSE_TEST_LOG ?? 'silent' }),
    );
    freeradius = await startFreeRadius([
      { name: 'gatehouse', port: gateway.port, secret: APP_SECRET, sourceAddress: '127.0.0.4' },
      { name: 'vpn', port: gateway.port, secret: PUSH_SECRET, sourceAddress: '127.0.0.5' },
    ]);
  });
  after(async () => {
    await freeradius?.stop();
    await gateway?.close();
    await portal?.close();
  });

  test('radtest with an app password is accepted through FreeRADIUS', async () => {
    const result = await run('radtest', [
      '-t',
      'pap',
      email,
      key,
      `127.0.0.1:${freeradius.port}`,
      '0',
      freeradius.secret,
    ]);
    assert.equal(result.code, 0, `${result.out}\n${freeradius.output().slice(-4000)}`);
    assert.match(result.out, /Received Access-Accept/);
    assert.match(result.out, /Reply-Message = "Welcome."/);
    const account = (await portal.core.accounts.find(email))!;
    const [used] = await portal.store.appPasswords.listForAccount(account.id);
    assert.equal(used?.lastUsedAddress, '127.0.0.4', 'the gateway saw the organisation server');
  });

  test('the account password is rejected through FreeRADIUS, with the reason passed on', async () => {
    const result = await radclient(freeradius, { 'User-Name': email, 'User-Password': TEST_PASSWORD });
    assert.equal(result.code, 1, result.out);
    assert.match(result.out, /Received Access-Reject/);
    assert.match(result.out, /Reply-Message = "Use an app password/);
  });

  test('password-and-push through FreeRADIUS: accepted once approved in the app, rejected when denied', async () => {
    const flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
    const { email: pushUser, phone } = await flows.registered();
    const answer = async (decision: 'approve' | 'deny') => {
      for (let i = 0; i < 200; i++) {
        const [id] = await phone.pendingIds();
        if (id) return phone.answer(id, decision, '');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error('no approval request arrived');
    };
    const vpn = { 'User-Name': pushUser, 'User-Password': TEST_PASSWORD, 'NAS-Identifier': 'vpn' };
    const [accepted] = await Promise.all([radclient(freeradius, vpn, 15), answer('approve')]);
    assert.match(accepted.out, /Received Access-Accept/, accepted.out);
    const [rejected] = await Promise.all([radclient(freeradius, vpn, 15), answer('deny')]);
    assert.match(rejected.out, /Received Access-Reject/, rejected.out);
  });
});
