import { createSocket, type RemoteInfo } from 'node:dgram';
import { BlockList, isIP } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { isGatehouseError } from '../../core/errors.ts';
import type { Core } from '../../core/index.ts';
import {
  ACCESS_ACCEPT,
  ACCESS_REJECT,
  ACCESS_REQUEST,
  attribute,
  decryptPassword,
  encodeResponse,
  MalformedPacket,
  MESSAGE_AUTHENTICATOR,
  messageAuthenticatorValid,
  parsePacket,
  USER_NAME,
  USER_PASSWORD,
} from './packet.ts';

export const radiusClientSchema = z.object({
  /** An address or a CIDR block, e.g. 10.1.2.3 or 10.1.0.0/16. */
  address: z.string().min(1).max(64),
  secret: z.string().min(16, 'a RADIUS shared secret must be at least 16 characters'),
  name: z.string().max(100).default('VPN'),
  /** `app-password`: an app password; `password-and-push`: the account password, then approval in the app. */
  mode: z.enum(['app-password', 'password-and-push']).default('app-password'),
  /**
   * Refuse (drop) a request without Message-Authenticator (RFC 3579; the BlastRADIUS defence).
   * false: accept it, and log it, for an old client that cannot send one (a risk the operator takes).
   */
  requireMessageAuthenticator: z.boolean().default(true),
});

export const radiusConfigSchema = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(1812),
  clients: z.array(radiusClientSchema).min(1),
});

export type RadiusConfig = z.infer<typeof radiusConfigSchema>;
type RadiusClient = z.infer<typeof radiusClientSchema>;

/** A retransmitted request gets the same answer, not a second sign-in (or a second push). */
const DUPLICATE_WINDOW_MS = 30_000;

/** RFC 2865 authentication for legacy clients (VPNs, Wi-Fi): Access-Request in, Accept or Reject out. */
export async function startRadiusGateway(core: Core, config: RadiusConfig, log: FastifyBaseLogger) {
  const clients = config.clients.map((client) => ({
    client,
    match: matcher(client.address),
    secret: Buffer.from(client.secret),
  }));
  const answered = new Map<string, { reply: Buffer | null; at: number }>();
  const unprotected = unprotectedRequests(log);
  const socket = createSocket(isIP(config.host) === 6 ? 'udp6' : 'udp4');

  socket.on('message', (datagram, peer) => {
    handle(datagram, peer).catch((error: unknown) => log.error({ err: error }, 'RADIUS request failed'));
  });

  async function handle(datagram: Buffer, peer: RemoteInfo) {
    const known = clients.find((c) => c.match(peer.address));
    if (!known) {
      log.warn({ from: peer.address }, 'RADIUS request from an unknown client ignored');
      return;
    }
    let request: ReturnType<typeof parsePacket>;
    try {
      request = parsePacket(datagram);
    } catch (error) {
      if (error instanceof MalformedPacket)
        return log.warn({ from: peer.address, reason: error.message }, 'malformed RADIUS packet dropped');
      throw error;
    }
    if (request.code !== ACCESS_REQUEST)
      return log.warn({ from: peer.address, code: request.code }, 'RADIUS packet type not handled');
    const hasAuthenticator = attribute(request, MESSAGE_AUTHENTICATOR) !== undefined;
    if (!hasAuthenticator && known.client.requireMessageAuthenticator) {
      return log.warn(
        { from: peer.address, client: known.client.name },
        'RADIUS request without Message-Authenticator dropped: make the client send one, or set ' +
          'requireMessageAuthenticator: false for this client if you accept the risk (see the README)',
      );
    }
    if (hasAuthenticator && !messageAuthenticatorValid(request, known.secret)) {
      return log.warn(
        { from: peer.address, client: known.client.name },
        'RADIUS request with a wrong Message-Authenticator dropped (is the shared secret the same on both sides?)',
      );
    }
    if (!hasAuthenticator) unprotected.accepted(known.client, peer.address);

    const key = `${peer.address}:${peer.port}:${request.id}:${request.authenticator.toString('hex')}`;
    sweep();
    const previous = answered.get(key);
    if (previous) {
      if (previous.reply) socket.send(previous.reply, peer.port, peer.address);
      return;
    }
    answered.set(key, { reply: null, at: Date.now() });
    const reply = await decide(request, known.client, known.secret, peer.address);
    answered.set(key, { reply, at: Date.now() });
    socket.send(reply, peer.port, peer.address);
  }

  async function decide(
    request: ReturnType<typeof parsePacket>,
    client: RadiusClient,
    secret: Buffer,
    address: string,
  ) {
    const userName = attribute(request, USER_NAME)?.toString('utf8').trim().toLowerCase() ?? '';
    const hidden = attribute(request, USER_PASSWORD);
    if (!userName || userName.length > 254 || !hidden) {
      return encodeResponse(ACCESS_REJECT, request, secret, 'A user name and a password are required.');
    }
    let password: string;
    try {
      password = decryptPassword(hidden, secret, request.authenticator);
    } catch {
      return encodeResponse(ACCESS_REJECT, request, secret, 'The password could not be read.');
    }
    try {
      if (client.mode === 'password-and-push') {
        await core.legacyPasswordAndPush({
          email: userName,
          password,
          protocol: 'radius',
          clientAddress: address,
          application: client.name,
        });
      } else {
        await core.legacySignIn({ email: userName, password, protocol: 'radius', clientAddress: address });
      }
      return encodeResponse(ACCESS_ACCEPT, request, secret, 'Welcome.');
    } catch (error) {
      if (!isGatehouseError(error)) throw error;
      const words =
        error.code === 'account_locked'
          ? 'Too many failed attempts. Try again later.'
          : client.mode === 'password-and-push'
            ? 'Sign-in was not approved.'
            : 'Use an app password: see Security info in the portal.';
      return encodeResponse(ACCESS_REJECT, request, secret, words);
    }
  }

  function sweep() {
    const now = Date.now();
    for (const [key, entry] of answered) if (now - entry.at > DUPLICATE_WINDOW_MS) answered.delete(key);
  }

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(config.port, config.host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', (error) => log.error({ err: error }, 'RADIUS socket error'));
  return {
    port: socket.address().port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function matcher(address: string): (peer: string) => boolean {
  const [base = '', bits] = address.split('/');
  const family = isIP(base) === 6 ? 'ipv6' : 'ipv4';
  if (!bits) return (peer) => peer === base || peer === `::ffff:${base}`;
  const list = new BlockList();
  list.addSubnet(base, Number(bits), family);
  return (peer) => list.check(peer.replace(/^::ffff:/, ''), family);
}

/** How often a client allowed to omit Message-Authenticator is logged again (with its count). */
const UNPROTECTED_LOG_MS = 60 * 60_000;

/**
 * Requests accepted without Message-Authenticator (the client's requireMessageAuthenticator is
 * false): logged at the first one from each client, then once an hour with the number since.
 */
function unprotectedRequests(log: FastifyBaseLogger) {
  const seen = new Map<string, { loggedAt: number; since: number }>();
  return {
    accepted(client: RadiusClient, from: string) {
      const now = Date.now();
      const entry = seen.get(client.address);
      if (entry && now - entry.loggedAt < UNPROTECTED_LOG_MS) {
        entry.since++;
        return;
      }
      log.warn(
        { client: client.name, from, requests: (entry?.since ?? 0) + 1 },
        'RADIUS request accepted without Message-Authenticator (requireMessageAuthenticator is false ' +
          'for this client): it is open to forged answers (BlastRADIUS); update the client when you can',
      );
      seen.set(client.address, { loggedAt: now, since: 0 });
    },
  };
}
