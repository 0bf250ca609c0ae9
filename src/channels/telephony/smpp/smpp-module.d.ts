/** The parts of the `smpp` package (0.5, no types of its own) that Gatehouse and its tests use. */
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Server as NetServer, Socket } from 'node:net';

  namespace smpp {
    /** One SMPP PDU; its fields are named as in SMPP 3.4 (system_id, destination_addr...). */
    interface PDU {
      command: string;
      command_status: number;
      sequence_number: number;
      [field: string]: unknown;
      isResponse(): boolean;
      response(fields?: Record<string, unknown>): PDU;
    }

    type Callback = (pdu: PDU) => void;

    /** A connection, either end; it emits 'pdu', each command's name, 'connect', 'error', 'close'. */
    class Session extends EventEmitter {
      socket: Socket;
      send(pdu: PDU, onResponse?: Callback, onSent?: Callback): boolean;
      bind_transceiver(fields: Record<string, unknown>, onResponse?: Callback): boolean;
      submit_sm(fields: Record<string, unknown>, onResponse?: Callback): boolean;
      deliver_sm(fields: Record<string, unknown>, onResponse?: Callback): boolean;
      enquire_link(fields: Record<string, unknown>, onResponse?: Callback): boolean;
      unbind(fields: Record<string, unknown>, onResponse?: Callback): boolean;
      close(callback?: () => void): void;
      destroy(callback?: () => void): void;
    }

    class Server extends NetServer {
      sessions: Session[];
    }

    type EncodingName = 'ASCII' | 'LATIN1' | 'UCS2';
    interface Encoding {
      match(text: string): boolean;
      encode(text: string): Buffer;
      decode(octets: Buffer): string;
    }

    function connect(
      options: { url?: string; host?: string; port?: number; [option: string]: unknown },
      onConnect?: () => void,
    ): Session;
    function createServer(options: Record<string, unknown>, onSession?: (session: Session) => void): Server;

    /** Command status codes by name: ESME_ROK, ESME_RBINDFAIL... */
    const errors: Record<string, number>;
    const ENCODING: Record<string, number>;
    const ESM_CLASS: { MC_DELIVERY_RECEIPT: number; [name: string]: number };
    const encodings: Record<EncodingName, Encoding> & { detect(text: string): EncodingName | false };
  }
  export = smpp;
}
