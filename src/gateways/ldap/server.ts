import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { isDatabaseUnavailable, isGatehouseError } from '../../core/errors.ts';
import type { Core } from '../../core/index.ts';
import type { Account } from '../../core/model.ts';
import { BerError, children, readInteger, readString, readTlv, type Tlv } from './ber.ts';
import { type Entry, matches } from './filter.ts';
import {
  bindResponse,
  extendedResponse,
  noticeOfDisconnection,
  OID,
  RESULT,
  searchDone,
  searchEntry,
} from './messages.ts';

export const ldapConfigSchema = z.object({
  host: z.string().default('127.0.0.1'),
  /** Plain LDAP (StartTLS available); binds over it are refused except from loopback unless allowPlain. */
  port: z.number().int().min(0).max(65535).default(389),
  /** LDAPS; off when absent. */
  tlsPort: z.number().int().min(0).max(65535).optional(),
  baseDn: z.string().min(1).max(200),
  tls: z.object({ key: z.string(), cert: z.string() }).optional(),
  allowPlain: z.boolean().default(false),
});

export type LdapConfig = z.infer<typeof ldapConfigSchema>;

const MAX_MESSAGE = 64 * 1024;
const IDLE_MS = 5 * 60_000;
const MAX_CONNECTIONS = 500;

/**
 * A read-only LDAPv3 server (RFC 4511) for legacy applications: a simple bind as the user with an
 * app password (the core decides what is accepted), and a search of the user's own entry.
 */
export async function startLdapGateway(core: Core, config: LdapConfig, log: FastifyBaseLogger) {
  const baseDn = config.baseDn.toLowerCase();
  const servers: Server[] = [];
  const open = new Set<Socket>();

  const accept = (socket: Socket, encrypted: boolean) => {
    if (open.size >= MAX_CONNECTIONS) return socket.destroy();
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    serve(socket, encrypted);
  };

  function serve(initial: Socket, initiallyEncrypted: boolean) {
    let socket: Socket = initial;
    let encrypted = initiallyEncrypted;
    let buffered = Buffer.alloc(0);
    let bound: Account | undefined;
    let queue = Promise.resolve();
    const address = (initial.remoteAddress ?? '').replace(/^::ffff:/, '');
    const loopback = address === '127.0.0.1' || address === '::1';
    socket.setTimeout(IDLE_MS, () => socket.destroy());

    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length > MAX_MESSAGE + 16) return disconnect('message too large');
      for (;;) {
        let next: ReturnType<typeof readTlv>;
        try {
          next = readTlv(buffered, 0, MAX_MESSAGE);
        } catch (error) {
          return disconnect((error as Error).message);
        }
        if (!next) return;
        buffered = buffered.subarray(next.end);
        const message = next.tlv;
        // Requests are answered in order, one at a time, as LDAP clients expect here.
        queue = queue
          .then(() => handle(message))
          .catch((error: unknown) => {
            if (error instanceof BerError) disconnect(error.message);
            else {
              log.error({ err: error }, 'LDAP request failed');
              socket.destroy();
            }
          });
      }
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());

    function disconnect(reason: string) {
      log.warn({ from: address, reason }, 'LDAP connection closed: protocol error');
      if (!socket.destroyed) socket.end(noticeOfDisconnection(reason));
      buffered = Buffer.alloc(0);
    }

    async function handle(message: Tlv) {
      if (message.tag !== 0x30) throw new BerError('not an LDAPMessage');
      const [idTlv, op] = children(message.value);
      const id = readInteger(idTlv);
      if (!op) throw new BerError('no operation');
      switch (op.tag) {
        case 0x60:
          return bind(id, op);
        case 0x42:
          return void socket.end();
        case 0x63:
          return search(id, op);
        case 0x77:
          return extended(id, op);
        case 0x50: // abandon: nothing runs long enough to abandon
          return;
        default:
          // Modify, add, delete and the rest: this directory is read-only.
          return void socket.write(
            extendedResponse(id, RESULT.unwillingToPerform, 'this directory is read-only'),
          );
      }
    }

    async function bind(id: number, op: Tlv) {
      const [versionTlv, nameTlv, auth] = children(op.value);
      if (readInteger(versionTlv) !== 3)
        return void socket.write(bindResponse(id, RESULT.protocolError, 'LDAPv3 only'));
      const name = readString(nameTlv);
      bound = undefined;
      if (auth?.tag !== 0x80)
        return void socket.write(bindResponse(id, RESULT.authMethodNotSupported, 'simple bind only'));
      const password = auth.value.toString('utf8');
      if (!name && !password) return void socket.write(bindResponse(id, RESULT.success)); // anonymous
      if (!encrypted && !loopback && !config.allowPlain) {
        return void socket.write(bindResponse(id, RESULT.confidentialityRequired, 'use LDAPS or StartTLS'));
      }
      const email = emailFromDn(name, baseDn);
      if (!email || !password) return void socket.write(bindResponse(id, RESULT.invalidCredentials));
      try {
        bound = await core.legacySignIn({ email, password, protocol: 'ldap', clientAddress: address });
        socket.write(bindResponse(id, RESULT.success));
      } catch (error) {
        if (isDatabaseUnavailable(error)) {
          log.warn(
            { reason: error.reason, err: error.cause },
            'LDAP bind answered unavailable: database away',
          );
          return void socket.write(bindResponse(id, RESULT.unavailable, 'try again in a moment'));
        }
        if (!isGatehouseError(error)) throw error;
        socket.write(
          bindResponse(
            id,
            RESULT.invalidCredentials,
            error.code === 'account_locked' ? 'too many failed attempts' : '',
          ),
        );
      }
    }

    async function search(id: number, op: Tlv) {
      const [baseTlv, scopeTlv, , , , , filter, attributesTlv] = children(op.value);
      const base = readString(baseTlv).toLowerCase();
      const scope = readInteger(scopeTlv);
      if (!filter) throw new BerError('search without filter');
      if (!bound) return void socket.write(searchDone(id, RESULT.insufficientAccessRights, 'bind first'));
      const account = (await core.accounts.findById(bound.id)) ?? bound;
      const dn = `uid=${account.email},${config.baseDn}`;
      const entry: Entry = {
        objectclass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
        uid: [account.email],
        mail: [account.email],
        cn: [account.displayName],
        displayname: [account.displayName],
      };
      const inScope =
        scope === 0
          ? base === dn.toLowerCase()
          : base === baseDn || dn.toLowerCase().endsWith(`,${base}`) || base === dn.toLowerCase();
      const wanted = attributesTlv
        ? children(attributesTlv.value).map((a) => readString(a).toLowerCase())
        : [];
      // At most one entry is ever returned, so every size limit (0 = none) is met.
      if (inScope && matches(filter, entry)) {
        const all = wanted.length === 0 || wanted.includes('*');
        const names: [string, string][] = [
          ['objectClass', 'objectclass'],
          ['uid', 'uid'],
          ['mail', 'mail'],
          ['cn', 'cn'],
          ['displayName', 'displayname'],
        ];
        socket.write(
          searchEntry(
            id,
            dn,
            names
              .filter(([, key]) => all || wanted.includes(key))
              .map(([label, key]) => [label, entry[key] ?? []]),
          ),
        );
      }
      socket.write(searchDone(id, RESULT.success));
    }

    async function extended(id: number, op: Tlv) {
      const [nameTlv] = children(op.value);
      const oid = nameTlv?.tag === 0x80 ? nameTlv.value.toString('utf8') : '';
      if (oid === OID.whoAmI) {
        return void socket.write(
          extendedResponse(
            id,
            RESULT.success,
            '',
            undefined,
            bound ? `dn:uid=${bound.email},${config.baseDn}` : '',
          ),
        );
      }
      if (oid === OID.startTls) {
        if (encrypted || !config.tls)
          return void socket.write(
            extendedResponse(id, RESULT.operationsError, 'TLS is not available', OID.startTls),
          );
        socket.write(extendedResponse(id, RESULT.success, '', OID.startTls));
        socket.off('data', onData);
        const secure = new TLSSocket(socket, { isServer: true, key: config.tls.key, cert: config.tls.cert });
        secure.on('data', onData);
        secure.on('error', () => secure.destroy());
        socket = secure;
        encrypted = true;
        bound = undefined;
        return;
      }
      socket.write(extendedResponse(id, RESULT.protocolError, 'unknown extended operation'));
    }
  }

  const listen = (server: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, config.host, () => resolve((server.address() as { port: number }).port));
    });

  const plain = createServer((socket) => accept(socket, false));
  servers.push(plain);
  const port = await listen(plain, config.port);
  let tlsPort: number | undefined;
  if (config.tlsPort !== undefined && config.tls) {
    const secure = createTlsServer({ key: config.tls.key, cert: config.tls.cert }, (socket) =>
      accept(socket, true),
    );
    servers.push(secure);
    tlsPort = await listen(secure, config.tlsPort);
  }
  return {
    port,
    tlsPort,
    async close() {
      for (const socket of open) socket.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

/** uid=<email>,<base>, mail=<email>,<base>, or the bare email address. */
function emailFromDn(name: string, baseDn: string): string | undefined {
  const text = name.trim().toLowerCase();
  if (/^[^,=\s]+@[^,=\s]+$/.test(text)) return text;
  const match = /^(?:uid|mail)=([^,]+),(.+)$/.exec(text);
  if (!match || match[2]?.replace(/\s*,\s*/g, ',') !== baseDn.replace(/\s*,\s*/g, ',')) return undefined;
  return match[1]?.trim();
}
