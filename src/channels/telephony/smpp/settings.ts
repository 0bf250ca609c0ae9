import { z } from 'zod';

const int8 = z.number().int().min(0).max(255);

/** Settings of an operator's SMS centre (SMPP 3.4, bind_transceiver); lengths are the spec's. */
export const smppTextSchema = z
  .object({
    provider: z.literal('smpp'),
    /** smpp://host:port (2775 by default) or ssmpp://host:port for SMPP over TLS. */
    url: z.url({ protocol: /^s?smpp$/, error: 'an address such as smpp://smsc.example.org:2775' }),
    systemId: z.string().min(1).max(15),
    /** Secret: better in GATEHOUSE_SMPP_PASSWORD than in the file. */
    password: z
      .string({ error: 'required: the bind password, in the file or in GATEHOUSE_SMPP_PASSWORD' })
      .max(8, 'SMPP 3.4 passwords are at most 8 characters'),
    systemType: z.string().max(12).default(''),
    serviceType: z.string().max(5).default(''),
    /** The sender shown on the phone: a number, or letters ("Gatehouse") where the network allows. */
    sourceAddress: z.string().min(1).max(20),
    /** Type of number and numbering plan of the sender; default: from sourceAddress (5/0 for letters, 1/1 for digits). */
    sourceTon: int8.optional(),
    sourceNpi: int8.optional(),
    /**
     * How the text is encoded: `auto` lets the smpp package choose (IA5 for plain text, Latin-1,
     * else UCS-2); `smsc-default` sends the GSM 7-bit alphabet as data_coding 0 (UCS-2 when the
     * text needs it); `ucs2` always UCS-2.
     */
    dataCoding: z.enum(['auto', 'smsc-default', 'ucs2']).default('auto'),
    /** Ask the SMS centre for delivery receipts (registered_delivery); they are logged. */
    deliveryReceipts: z.boolean().default(false),
    /** How long the SMS centre has to answer a bind, a submit or a keepalive. */
    timeoutSeconds: z.number().int().min(1).max(60).default(10),
    /** enquire_link keepalive period. */
    enquireLinkSeconds: z.number().int().min(5).max(600).default(30),
    /** Reconnection backoff after the link drops: doubles from the first to the last. */
    reconnectSeconds: z
      .object({ first: z.number().min(0.1).max(60), last: z.number().min(1).max(3600) })
      .strict()
      .default({ first: 1, last: 60 }),
    /** A CA certificate file (PEM) to trust for ssmpp://, when the SMS centre's is private. */
    tlsCaFile: z.string().min(1).optional(),
  })
  .strict();

export type SmppTextSettings = z.infer<typeof smppTextSchema>;
