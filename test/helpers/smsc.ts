import type { AddressInfo } from 'node:net';
import smpp from 'smpp';

export interface SubmittedText {
  to: string;
  destTon: number;
  destNpi: number;
  from: string;
  sourceTon: number;
  sourceNpi: number;
  dataCoding: number;
  text: string;
  registeredDelivery: number;
  messageId: string;
}

export type SmscBehaviour = {
  /** refuse: bind_transceiver answered with ESME_RBINDFAIL whatever the password. */
  bind: 'check' | 'refuse';
  /** error: ESME_RSUBMITFAIL; silent: no answer at all (a hung SMS centre). */
  submit: 'accept' | 'error' | 'silent';
};

/**
 * A local SMS centre: the `smpp` package in server mode, speaking SMPP 3.4 to Gatehouse. It checks
 * the bind's system_id and password, keeps submitted texts in an inbox, answers enquire_link,
 * sends a deliver_sm delivery receipt when asked for one, and can misbehave on purpose.
 */
export async function startSmsc(
  account: { systemId: string; password: string },
  /** SMPP over TLS (ssmpp://) with this key and certificate. */
  tls?: { key: string; cert: string },
) {
  const inbox: SubmittedText[] = [];
  const events: string[] = [];
  const receiptsAcknowledged: string[] = [];
  const behaviour: SmscBehaviour = { bind: 'check', submit: 'accept' };
  let counter = 0;

  const server = smpp.createServer(tls ?? {}, (session) => {
    session.on('error', () => {});
    session.on('bind_transceiver', (pdu) => {
      events.push(`bind ${String(pdu.system_id)}`);
      const ok =
        behaviour.bind === 'check' && pdu.system_id === account.systemId && pdu.password === account.password;
      session.send(pdu.response({ command_status: ok ? smpp.errors.ESME_ROK : smpp.errors.ESME_RBINDFAIL }));
    });
    session.on('enquire_link', (pdu) => {
      events.push('enquire_link');
      if (behaviour.submit !== 'silent') session.send(pdu.response());
    });
    session.on('unbind', (pdu) => {
      events.push('unbind');
      session.send(pdu.response());
      session.close();
    });
    session.on('deliver_sm_resp', (pdu) => receiptsAcknowledged.push(String(pdu.sequence_number)));
    session.on('submit_sm', (pdu) => {
      events.push('submit_sm');
      if (behaviour.submit === 'silent') return;
      if (behaviour.submit === 'error') {
        session.send(pdu.response({ command_status: smpp.errors.ESME_RSUBMITFAIL }));
        return;
      }
      const messageId = `m${++counter}`;
      const payload = (pdu.message_payload ?? pdu.short_message) as { message: string };
      inbox.push({
        to: String(pdu.destination_addr),
        destTon: pdu.dest_addr_ton as number,
        destNpi: pdu.dest_addr_npi as number,
        from: String(pdu.source_addr),
        sourceTon: pdu.source_addr_ton as number,
        sourceNpi: pdu.source_addr_npi as number,
        dataCoding: pdu.data_coding as number,
        text: payload.message,
        registeredDelivery: pdu.registered_delivery as number,
        messageId,
      });
      session.send(pdu.response({ message_id: messageId }));
      if (pdu.registered_delivery) {
        session.deliver_sm({
          source_addr: pdu.destination_addr,
          destination_addr: pdu.source_addr,
          esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT,
          short_message: `id:${messageId} sub:001 dlvrd:001 submit date:2606010900 done date:2606010900 stat:DELIVRD err:000 text:`,
        });
      }
    });
  });

  const listen = (port = 0) =>
    new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  await listen();
  const port = (server.address() as AddressInfo).port;

  /** Stops listening and drops every client: the SMS centre is down. */
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const session of [...server.sessions]) session.destroy();
      server.close(() => resolve());
    });

  return {
    url: `${tls ? 'ssmpp' : 'smpp'}://127.0.0.1:${port}`,
    inbox,
    /** What clients asked, in order: "bind <system_id>", "submit_sm", "enquire_link", "unbind". */
    events,
    receiptsAcknowledged,
    behaviour,
    /** Clients connected now. */
    sessions: () => server.sessions.length,
    stop,
    /** Back on the same port after `stop`. */
    restart: () => listen(port),
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}

export type Smsc = Awaited<ReturnType<typeof startSmsc>>;
