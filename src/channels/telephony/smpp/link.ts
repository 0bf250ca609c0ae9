import type smpp from 'smpp';
import { TelephonyError } from '../provider.ts';
import { type BindOptions, bindTransceiver, unreachableAt } from './session.ts';

export interface SmppLinkOptions extends Omit<BindOptions, 'onClose'> {
  enquireLinkMs: number;
  reconnect: { firstMs: number; lastMs: number };
}

/**
 * One bound transceiver session with an SMS centre, kept up: enquire_link keepalives, a new bind
 * with doubling backoff when the link drops, and a bind on demand when a message waits. Each
 * request has a timeout; a centre that stops answering is disconnected and reconnected.
 */
export function smppLink(o: SmppLinkOptions) {
  const where = new URL(o.url).host;
  let bound: smpp.Session | undefined;
  let opening: Promise<smpp.Session> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delayMs = o.reconnect.firstMs;
  let closed = false;
  const unreachable = (why: string) => unreachableAt(where, why);
  /** Requests waiting for an answer on the bound session, failed at once if the link drops. */
  const waiting = new Set<(error: TelephonyError) => void>();

  function open(): Promise<smpp.Session> {
    opening ??= bindTransceiver({ ...o, onClose: dropped }).then(
      (session) => {
        opening = undefined;
        bound = session;
        delayMs = o.reconnect.firstMs;
        o.logger.info({ smsc: where }, 'bound to the SMS centre');
        return session;
      },
      (error: TelephonyError) => {
        opening = undefined;
        o.logger.warn({ smsc: where, code: error.code }, error.message);
        scheduleReconnect();
        throw error;
      },
    );
    return opening;
  }

  function dropped(session: smpp.Session) {
    if (bound !== session) return;
    bound = undefined;
    for (const fail of waiting) fail(unreachable('(the connection closed before it answered)'));
    waiting.clear();
    if (!closed) o.logger.warn({ smsc: where }, 'the link to the SMS centre dropped; reconnecting');
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (closed || retry || opening) return;
    retry = setTimeout(() => {
      retry = undefined;
      open().catch(() => {});
    }, delayMs);
    retry.unref();
    delayMs = Math.min(delayMs * 2, o.reconnect.lastMs);
  }

  /** Sends a request on the bound session (binding first when needed) and waits for its answer. */
  async function request(command: 'submit_sm' | 'enquire_link', fields: Record<string, unknown>) {
    if (closed) throw unreachable('(Gatehouse is shutting down)');
    if (retry) clearTimeout(retry);
    retry = undefined;
    // A socket that died a moment ago may not have reported its close yet.
    if (bound && (bound.socket.destroyed || !bound.socket.writable)) dropped(bound);
    const session = bound ?? (await open());
    return new Promise<smpp.PDU>((resolve, reject) => {
      const fail = (error: TelephonyError) => {
        clearTimeout(timer);
        waiting.delete(fail);
        reject(error);
      };
      const timer = setTimeout(() => {
        fail(
          new TelephonyError('smpp_timeout', `the SMS centre at ${where} did not answer ${command} in time`),
        );
        session.destroy(); // a centre that stops answering is reconnected
        dropped(session);
      }, o.timeoutMs);
      waiting.add(fail);
      const sent = session[command](fields, (pdu) => {
        clearTimeout(timer);
        waiting.delete(fail);
        resolve(pdu);
      });
      if (!sent) fail(unreachable('(the connection is not writable)'));
    });
  }

  const keepalive = setInterval(() => {
    if (bound) request('enquire_link', {}).catch(() => {});
  }, o.enquireLinkMs);
  keepalive.unref();

  return {
    /** Binds in the background: Gatehouse starts even while the SMS centre is down. */
    start: () => void open().catch(() => {}),
    request,
    async close() {
      closed = true;
      clearInterval(keepalive);
      if (retry) clearTimeout(retry);
      const session = bound ?? (await opening?.catch(() => undefined));
      if (!session || session.socket.destroyed) return;
      // A polite unbind, but never a shutdown that waits on an SMS centre that stopped answering.
      await new Promise<void>((resolve) => {
        const giveUp = setTimeout(() => {
          session.destroy();
          resolve();
        }, o.timeoutMs);
        session.socket.once('close', () => {
          clearTimeout(giveUp);
          resolve();
        });
        if (!session.unbind({}, () => session.close())) session.destroy();
      });
    },
  };
}

export type SmppLink = ReturnType<typeof smppLink>;
