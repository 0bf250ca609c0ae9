import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { systemClock } from '../../src/core/clock.ts';
import { startRadiusGateway } from '../../src/gateways/radius/server.ts';
import { addUser, startTestPortal, TEST_PASSWORD, type TestPortal } from '../helpers/portal.ts';
import { pushJourneys } from '../helpers/push-journeys.ts';

const SECRET = 'testing123-shared-secret';
const PUSH_SECRET = 'vpn-shared-secret-for-push';

/** Debian's radclient (freeradius-utils), one try, 2-second timeout. */
function radclient(port: number, secret: string, fields: Record<string, string>, withAuthenticator = true) {
  const lines = Object.entries(fields).map(([k, v]) => `${k} = "${v}"`);
  if (withAuthenticator) lines.push('Message-Authenticator = 0x00');
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn('radclient', ['-x', '-r', '1', '-t', '2', `127.0.0.1:${port}`, 'auth', secret]);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(`${lines.join('\n')}\n`);
  });
}

describe('RADIUS gateway with radclient', () => {
  let portal: TestPortal;
  let gateway: Awaited<ReturnType<typeof startRadiusGateway>>;
  let pushGateway: Awaited<ReturnType<typeof startRadiusGateway>>;
  let key = '';
  const email = 'vpn.user@example.org';

  before(async () => {
    portal = await startTestPortal();
    const account = await addUser(portal.core, email);
    await portal.core.enrolment.enable(account, '127.0.0.1');
    key = (await portal.core.appPasswords.create(account, 'Laptop VPN client', '127.0.0.1')).keyPassword;
    const log = pino({ level: 'silent' });
    gateway = await startRadiusGateway(
      portal.core,
      {
        host: '127.0.0.1',
        port: 0,
        clients: [
          {
            address: '127.0.0.0/8',
            secret: SECRET,
            name: 'VPN',
            mode: 'app-password',
            requireMessageAuthenticator: true,
          },
        ],
      },
      log,
    );
    pushGateway = await startRadiusGateway(
      portal.core,
      {
        host: '127.0.0.1',
        port: 0,
        clients: [
          {
            address: '127.0.0.1',
            secret: PUSH_SECRET,
            name: 'Trust VPN',
            mode: 'password-and-push',
            requireMessageAuthenticator: true,
          },
        ],
      },
      log,
    );
  });
  after(async () => {
    await gateway.close();
    await pushGateway.close();
    await portal.close();
  });

  test('Access-Accept with an app password; its use is recorded', async () => {
    const result = await radclient(gateway.port, SECRET, { 'User-Name': email, 'User-Password': key });
    assert.equal(result.code, 0, result.out);
    assert.match(result.out, /Received Access-Accept/);
    const account = (await portal.core.accounts.find(email))!;
    const [used] = await portal.store.appPasswords.listForAccount(account.id);
    assert.equal(used?.lastUsedProtocol, 'radius');
    assert.equal(used?.lastUsedAddress, '127.0.0.1');
  });

  test('Access-Reject with a wrong app password, and with the account password once MFA is on', async () => {
    const wrong = await radclient(gateway.port, SECRET, {
      'User-Name': email,
      'User-Password': 'abcd-efgh-jkmn-pqrs',
    });
    assert.equal(wrong.code, 1);
    assert.match(wrong.out, /Received Access-Reject/);
    assert.match(wrong.out, /Reply-Message = "Use an app password/);
    const account = await radclient(gateway.port, SECRET, {
      'User-Name': email,
      'User-Password': TEST_PASSWORD,
    });
    assert.match(account.out, /Received Access-Reject/);
  });

  test('a wrong shared secret gets no valid answer', async () => {
    const result = await radclient(gateway.port, 'not-the-shared-secret', {
      'User-Name': email,
      'User-Password': key,
    });
    assert.equal(result.code, 1);
    assert.doesNotMatch(result.out, /Received Access-Accept/);
  });

  test('a request without Message-Authenticator is dropped when the client must send one', async () => {
    const result = await radclient(gateway.port, SECRET, { 'User-Name': email, 'User-Password': key }, false);
    assert.equal(result.code, 1);
    assert.match(result.out, /No reply from server/);
  });

  test('malformed packets are dropped without affecting other clients', async () => {
    const socket = createSocket('udp4');
    const garbage = [
      Buffer.alloc(5),
      Buffer.from([1, 7, 0, 10, ...Buffer.alloc(16)]),
      Buffer.concat([Buffer.from([1, 8, 0x10, 0x00]), Buffer.alloc(16)]),
      Buffer.concat([Buffer.from([1, 9, 0, 24]), Buffer.alloc(16), Buffer.from([1, 0, 0, 0])]),
      Buffer.concat([Buffer.from([42, 10, 0, 20]), Buffer.alloc(16)]),
      Buffer.alloc(5000, 1),
    ];
    let replies = 0;
    socket.on('message', () => replies++);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    await Promise.all([
      ...garbage.map(
        (g) => new Promise<void>((resolve) => socket.send(g, gateway.port, '127.0.0.1', () => resolve())),
      ),
    ]);
    const meanwhile = await radclient(gateway.port, SECRET, { 'User-Name': email, 'User-Password': key });
    socket.close();
    assert.equal(replies, 0, 'no answer to garbage');
    assert.match(meanwhile.out, /Received Access-Accept/);
  });

  test('password-and-push: the account password, then approval in the app; a denial rejects', async () => {
    const flows = pushJourneys({ core: portal.core, pcApp: portal.app, clock: systemClock });
    const { email: pushUser, phone } = await flows.registered();
    const approve = async (decision: 'approve' | 'deny') => {
      for (let i = 0; i < 100; i++) {
        const [id] = await phone.pendingIds();
        if (id) return phone.answer(id, decision, '');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('no approval request arrived');
    };
    const [accepted] = await Promise.all([
      radclient(pushGateway.port, PUSH_SECRET, { 'User-Name': pushUser, 'User-Password': TEST_PASSWORD }),
      approve('approve'),
    ]);
    assert.match(accepted.out, /Received Access-Accept/, accepted.out);
    const [rejected] = await Promise.all([
      radclient(pushGateway.port, PUSH_SECRET, { 'User-Name': pushUser, 'User-Password': TEST_PASSWORD }),
      approve('deny'),
    ]);
    assert.match(rejected.out, /Received Access-Reject/);
    const wrongPassword = await radclient(pushGateway.port, PUSH_SECRET, {
      'User-Name': pushUser,
      'User-Password': 'wrong-password',
    });
    assert.match(wrongPassword.out, /Received Access-Reject/);
    assert.deepEqual(await phone.pendingIds(), [], 'no push for a wrong password');
  });
});
