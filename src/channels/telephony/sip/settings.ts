import { isIP } from 'node:net';
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);
const hostname =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** "host:port" (5060 when left out) of the trunk or PBX: a name or an IPv4 address (calls use UDP over IPv4). */
const server = z.string().transform((value, ctx) => {
  const match = /^([^:]+)(?::(\d{1,5}))?$/.exec(value);
  const host = match?.[1];
  const portNumber = Number(match?.[2] ?? 5060);
  const validHost = host !== undefined && (isIP(host) === 4 || (isIP(host) === 0 && hostname.test(host)));
  if (!validHost || !(portNumber >= 1 && portNumber <= 65535)) {
    ctx.addIssue({ code: 'custom', message: 'a host:port such as pbx.example.org:5060 or 192.0.2.10:5060' });
    return z.NEVER;
  }
  return { host, port: portNumber };
});

/** A SIP user part: E.164 or letters, digits and the few marks trunks accept (RFC 3261 "unreserved"). */
const sipUser = z.string().regex(/^[A-Za-z0-9+._~-]{1,64}$/, 'a SIP user such as +441632960001 or gatehouse');

export const sipVoiceSchema = z
  .object({
    provider: z.literal('sip'),
    /** The trunk or PBX that takes the calls (RFC 3261 over UDP). */
    server,
    /** The caller: a SIP user at the server, usually the organisation's number in E.164. */
    from: sipUser,
    /** The name shown with the number, where the network passes one on. */
    displayName: z
      .string()
      .regex(/^[^"\\\r\n]{1,40}$/, 'up to 40 characters, no quotes')
      .optional(),
    /** Digest authentication (401/407): the user, when the trunk asks for one. */
    username: sipUser.optional(),
    /** Secret: better in GATEHOUSE_SIP_PASSWORD than in the file. */
    password: z.string().min(1).max(128).optional(),
    /** This machine's address as the server reaches it: SIP and RTP are bound to it and it goes in the SDP. */
    localAddress: z
      .string()
      .refine((a) => isIP(a) === 4, 'an IPv4 address of this machine, such as 192.0.2.20'),
    /** The UDP port for SIP; 0 picks any free port (fine when the trunk does not call back). */
    localPort: z.number().int().min(0).max(65535).default(5060),
    /** UDP ports for the calls' audio, one per call in progress. */
    rtpPorts: z
      .object({ first: port.min(1024), last: port.min(1024) })
      .strict()
      .refine((r) => r.first <= r.last, 'first must not be after last')
      .default({ first: 16384, last: 16583 }),
    /** How long the phone rings before the call counts as not answered (then CANCEL). */
    ringSeconds: z.number().int().min(5).max(60).default(30),
    /** How long the call waits for a key after each prompt (it asks twice). */
    keySeconds: z.number().int().min(3).max(30).default(8),
    /** Gatehouse hangs up after this long whatever happens. */
    maxCallSeconds: z.number().int().min(30).max(600).default(120),
    /** The speech synthesiser (espeak-ng) that makes the prompt's audio. */
    speech: z
      .object({
        command: z.string().min(1).default('espeak-ng'),
        voice: z
          .string()
          .regex(/^[A-Za-z0-9_+-]{1,32}$/)
          .default('en-gb'),
        wordsPerMinute: z.number().int().min(80).max(300).default(150),
      })
      .strict()
      .default({ command: 'espeak-ng', voice: 'en-gb', wordsPerMinute: 150 }),
  })
  .strict()
  .refine((s) => s.password === undefined || s.username !== undefined, {
    message: 'a password needs a username',
    path: ['username'],
  })
  .refine((s) => s.username === undefined || s.password !== undefined, {
    message: 'required with username: the password, in the file or in GATEHOUSE_SIP_PASSWORD',
    path: ['password'],
  });

export type SipVoiceSettings = z.infer<typeof sipVoiceSchema>;
