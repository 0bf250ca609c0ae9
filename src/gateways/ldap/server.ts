import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, TLSSocket } from 'node:tls';
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { type ServiceAccount, secretDigest } from '../../core/directory/service-account.ts';
import { isDatabaseUnavailable, isGatehouseError } from '../../core/errors.ts';
import type { Core } from '../../core/index.ts';
import type { Account } from '../../core/model.ts';
import { BerError, children, readInteger, readString, readTlv, type Tlv } from './ber.ts';
import { matches } from './filter.ts';
import {
  bindResponse,
  extendedResponse,
  noticeOfDisconnection,
  OID,
  RESULT,
  searchDone,
  searchEntry,
} from './messages.ts';
import {
  emailFromDn,
  entryDn,
  entryOf,
  inScope,
  namedAddresses,
  normaliseDn,
  readSearch,
  type SearchRequest,
  SearchTooComplex,
  selectAttributes,
} from './search.ts';
import { serviceActivity } from './service-activity.ts';

export const ldapConfigSchema = z.object({
  host: z.string().default('127.0.0.1'),
  /** Plain LDAP (StartTLS available); binds over it are refused except from loopback unless allowPlain. */
  port: z.number().int().min(0).max(65535).default(389),
  /** LDAPS; off when absent. */
  tlsPort: z.number().int().min(0).max(65535).optional(),
  baseDn: z.string().min(1).max(200),
  tls: z.object({ key: z.string(), cert: z.string() }).optional(),
  allowPlain: z.boolean().default(false),
  /** Where the groups in `memberOf` are named (default: ou=groups under baseDn's parent). */
  groupBaseDn: z.string().min(1).max(200).optional(),
  /**
   * A read-only service account that may search for one entry by uid or mail (search-then-bind,
   * as Dovecot without auth_bind_userdn does). Its password comes from the environment.
   */
  serviceAccount: z
    .object({
      dn: z.string().min(3).max(200),
      password: z.string().min(16, 'the LDAP service account password must be at least 16 characters'),
      /** Searches per minute, across all instances (each search counted atomically). */
      searchesPerMinute: z.number().int().positive().default(1200),
      /** Entries one search may return. */
      sizeLimit: z.number().int().min(1).max(100).default(10),
    })
    .strict()
    .optional(),
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
  const groupBaseDn = config.groupBaseDn ?? defaultGroupBaseDn(config.baseDn);
  const serviceDn = config.serviceAccount && normaliseDn(config.serviceAccount.dn);
  // Only the digest of the service account's secret is kept (see core/directory).
  const service: ServiceAccount | undefined = config.serviceAccount && {
    name: config.serviceAccount.dn,
    secretDigest: secretDigest(config.serviceAccount.password),
    searchesPerMinute: config.serviceAccount.searchesPerMinute,
  };
  const serviceSizeLimit = config.serviceAccount?.sizeLimit ?? 1;
  const services = serviceActivity(core, config.serviceAccount?.dn ?? '', log);
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
    let bound: { kind: 'user'; account: Account } | { kind: 'service'; service: ServiceAccount } | undefined;
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
      const asService = service && normaliseDn(name) === serviceDn ? service : undefined;
      if ((!email && !asService) || !password)
        return void socket.write(bindResponse(id, RESULT.invalidCredentials));
      try {
        if (asService) {
          await core.directory.bindService(asService, password, address);
          bound = { kind: 'service', service: asService };
          services.note(address, { binds: 1 });
        } else if (email) {
          const account = await core.legacySignIn({
            email,
            password,
            protocol: 'ldap',
            clientAddress: address,
          });
          bound = { kind: 'user', account };
        }
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
        if (error.code === 'client_throttled')
          return void socket.write(bindResponse(id, RESULT.busy, 'too many binds at once: try again'));
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
      let request: SearchRequest;
      try {
        request = readSearch(op);
      } catch (error) {
        if (!(error instanceof SearchTooComplex)) throw error;
        if (bound?.kind === 'service') services.note(address, { refused: 1 });
        return void socket.write(searchDone(id, RESULT.adminLimitExceeded, error.message));
      }
      if (!bound) return void socket.write(searchDone(id, RESULT.insufficientAccessRights, 'bind first'));
      if (bound.kind === 'user') {
        // A user sees their own entry and nothing else.
        const account = (await core.accounts.findById(bound.account.id)) ?? bound.account;
        send(id, request, [account]);
        return void socket.write(searchDone(id, RESULT.success));
      }
      const service = bound.service;
      const fromBase = request.scope === 0 ? emailFromDn(request.base, baseDn) : undefined;
      const named = fromBase ? [fromBase] : namedAddresses(request.filter);
      if (!named) {
        services.note(address, { refused: 1 });
        return void socket.write(
          searchDone(id, RESULT.unwillingToPerform, 'search for one entry by uid or mail'),
        );
      }
      const limit = Math.min(serviceSizeLimit, request.sizeLimit || serviceSizeLimit);
      let accounts: Account[];
      try {
        const until = await core.directory.countSearch(service, address);
        if (until) {
          services.note(address, { limited: 1 });
          return void socket.write(searchDone(id, RESULT.busy, 'too many searches: try again in a minute'));
        }
        accounts = await core.directory.lookup(named, limit);
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        log.warn(
          { reason: error.reason, err: error.cause },
          'LDAP search answered unavailable: database away',
        );
        return void socket.write(searchDone(id, RESULT.unavailable, 'try again in a moment'));
      }
      const sent = send(id, request, accounts);
      services.note(address, { searches: 1, entries: sent });
      socket.write(searchDone(id, new Set(named).size > limit ? RESULT.sizeLimitExceeded : RESULT.success));
    }

    /** Writes the entries within the request's scope that match its filter; returns how many. */
    function send(id: number, request: SearchRequest, accounts: Account[]) {
      let count = 0;
      for (const account of accounts) {
        const dn = entryDn(account, config.baseDn);
        const entry = entryOf(account, groupBaseDn);
        if (!inScope(request, dn, config.baseDn) || !matches(request.filter, entry)) continue;
        socket.write(searchEntry(id, dn, selectAttributes(entry, request.attributes)));
        count++;
      }
      return count;
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
            bound?.kind === 'user'
              ? `dn:${entryDn(bound.account, config.baseDn)}`
              : bound
                ? `dn:${bound.service.name}`
                : '',
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
      await services.flush();
      for (const socket of open) socket.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

/** ou=groups beside the people: ou=people,dc=example,dc=org gives ou=groups,dc=example,dc=org. */
function defaultGroupBaseDn(baseDn: string): string {
  const comma = baseDn.indexOf(',');
  return comma === -1 ? `ou=groups,${baseDn}` : `ou=groups${baseDn.slice(comma)}`;
}
