import type { FastifyBaseLogger } from 'fastify';
import smpp from 'smpp';
import { TelephonyError } from '../provider.ts';

export interface BindOptions {
  url: string;
  systemId: string;
  password: string;
  systemType: string;
  /** How long the SMS centre has to answer a bind, a submit or an enquire_link. */
  timeoutMs: number;
  /** Extra options for the TLS connection (ssmpp://): a private CA. */
  tls?: { ca: string } | undefined;
  logger: FastifyBaseLogger;
  /** A deliver_sm from the SMS centre (a receipt); already answered. */
  onDeliver(pdu: smpp.PDU): void;
  /** The bound session's connection closed. */
  onClose(session: smpp.Session): void;
}

const statusNames = new Map(Object.entries(smpp.errors).map(([name, code]) => [code, name]));
export const statusName = (status: number) =>
  `${statusNames.get(status) ?? 'unknown status'} (0x${status.toString(16).padStart(8, '0')})`;

export const unreachableAt = (where: string, why: string) =>
  new TelephonyError('smpp_unreachable', `cannot reach the SMS centre at ${where} ${why}`);

/**
 * Connects and binds as a transceiver. Resolves with the bound session, which then answers what
 * an SMS centre may ask of a client (receipts, keepalives, unbind); rejects with a TelephonyError
 * when the centre cannot be reached, refuses the bind, or does not answer in time.
 */
export function bindTransceiver(o: BindOptions): Promise<smpp.Session> {
  const where = new URL(o.url).host;
  return new Promise((resolve, reject) => {
    const session = smpp.connect({ url: o.url, ...(o.tls ?? {}) });
    let settled = false;
    const fail = (error: TelephonyError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      reject(error);
    };
    const timer = setTimeout(
      () =>
        fail(
          new TelephonyError('smpp_timeout', `the SMS centre at ${where} did not answer the bind in time`),
        ),
      o.timeoutMs,
    );
    session.on('error', (error: NodeJS.ErrnoException) => {
      if (!settled) fail(unreachableAt(where, `(${error.code ?? error.message})`));
      else o.logger.warn({ smsc: where, err: error.code ?? error.message }, 'SMPP link error');
    });
    session.on('close', () =>
      settled ? o.onClose(session) : fail(unreachableAt(where, '(connection closed)')),
    );
    session.on(o.url.startsWith('ssmpp:') ? 'secureConnect' : 'connect', () => {
      session.bind_transceiver(
        { system_id: o.systemId, password: o.password, system_type: o.systemType },
        (pdu) => {
          if (pdu.command_status !== 0) {
            const status = statusName(pdu.command_status);
            fail(new TelephonyError('smpp_bind_failed', `the SMS centre refused the bind: ${status}`));
            return;
          }
          settled = true;
          clearTimeout(timer);
          answerRequests(session, o);
          resolve(session);
        },
      );
    });
  });
}

function answerRequests(session: smpp.Session, o: BindOptions) {
  session.on('deliver_sm', (pdu: smpp.PDU) => {
    session.send(pdu.response());
    o.onDeliver(pdu);
  });
  session.on('enquire_link', (pdu: smpp.PDU) => session.send(pdu.response()));
  session.on('unbind', (pdu: smpp.PDU) => {
    session.send(pdu.response());
    session.close();
  });
}
