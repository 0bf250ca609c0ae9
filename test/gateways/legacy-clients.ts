import { execFile } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { argon2idHasher, type PasswordHasher } from '../../src/core/passwords/hasher.ts';
import { children, integer, octets, readInteger, readTlv, TAG, tlv } from '../../src/gateways/ldap/ber.ts';
import {
  ACCESS_REQUEST,
  MESSAGE_AUTHENTICATOR,
  parsePacket,
  USER_NAME,
  USER_PASSWORD,
} from '../../src/gateways/radius/packet.ts';

/** The real argon2id hasher, counting the hashes it verifies (one per evaluated sign-in). */
export function countingHasher(): PasswordHasher & { verifications: number } {
  const real = argon2idHasher();
  const counting = {
    verifications: 0,
    hash: real.hash,
    needsRehash: real.needsRehash,
    verify(passwordHash: string, password: string) {
      counting.verifications++;
      return real.verify(passwordHash, password);
    },
  };
  return counting;
}

/** Runs a Debian client (ldapwhoami, radtest); resolves with its exit code and output. */
export function run(command: string, args: string[]) {
  return new Promise<{ code: number; out: string }>((resolve) => {
    execFile(command, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

/** One LDAPv3 simple bind (RFC 4511 4.2) on its own connection; resolves with the resultCode. */
export function ldapBind(port: number, dn: string, password: string) {
  const request = tlv(TAG.sequence, [
    integer(TAG.integer, 1),
    tlv(0x60, [integer(TAG.integer, 3), octets(TAG.octetString, dn), octets(0x80, password)]),
  ]);
  return new Promise<number>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let received = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      const message = readTlv(received);
      if (!message) return;
      const [, response] = children(message.tlv.value);
      socket.end();
      resolve(readInteger(children(response!.value)[0]));
    });
    socket.on('error', reject);
    socket.setTimeout(60_000, () => socket.destroy(new Error('no bind response')));
  });
}

/**
 * Sends Access-Requests (RFC 2865, with Message-Authenticator, RFC 3579) from one UDP socket,
 * all at once, one identifier each; resolves with the code of each reply (2 accept, 3 reject).
 */
export async function radiusRequests(
  port: number,
  secret: string,
  requests: { userName: string; password: string }[],
) {
  if (requests.length > 256) throw new Error('one identifier per request: at most 256');
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const codes = new Map<number, number>();
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${codes.size} of ${requests.length} answered`)),
      120_000,
    );
    socket.on('message', (datagram) => {
      const reply = parsePacket(datagram);
      codes.set(reply.id, reply.code);
      if (codes.size === requests.length) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  for (const [id, request] of requests.entries()) {
    socket.send(
      accessRequest(id, Buffer.from(secret), request.userName, request.password),
      port,
      '127.0.0.1',
    );
  }
  try {
    await done;
  } finally {
    socket.close();
  }
  return requests.map((_, id) => codes.get(id)!);
}

function accessRequest(id: number, secret: Buffer, userName: string, password: string) {
  const authenticator = randomBytes(16);
  const attribute = (type: number, value: Buffer) =>
    Buffer.concat([Buffer.from([type, value.length + 2]), value]);
  const attributes = Buffer.concat([
    attribute(USER_NAME, Buffer.from(userName)),
    attribute(USER_PASSWORD, hidePassword(password, secret, authenticator)),
    attribute(MESSAGE_AUTHENTICATOR, Buffer.alloc(16)),
  ]);
  const packet = Buffer.concat([Buffer.from([ACCESS_REQUEST, id, 0, 0]), authenticator, attributes]);
  packet.writeUInt16BE(packet.length, 2);
  createHmac('md5', secret)
    .update(packet)
    .digest()
    .copy(packet, packet.length - 16);
  return packet;
}

/** RFC 2865 5.2, the client's side. */
function hidePassword(password: string, secret: Buffer, authenticator: Buffer) {
  const plain = Buffer.from(password);
  const padded = Buffer.alloc(Math.ceil(plain.length / 16) * 16);
  plain.copy(padded);
  let previous = authenticator;
  for (let i = 0; i < padded.length; i += 16) {
    const key = createHash('md5').update(secret).update(previous).digest();
    for (let j = 0; j < 16; j++) padded[i + j] = padded[i + j]! ^ key[j]!;
    previous = padded.subarray(i, i + 16);
  }
  return padded;
}
