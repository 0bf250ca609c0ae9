import { z } from 'zod';

const httpUrl = z.url({ protocol: /^https?$/ });

/** What both Twilio providers need to call the REST API. */
const credentials = {
  accountSid: z
    .string()
    .regex(/^AC[0-9a-fA-F]{32}$/, 'an Account SID: AC followed by 32 hexadecimal characters'),
  /** Secret: better in GATEHOUSE_TWILIO_AUTH_TOKEN than in the file. Also checks webhook signatures. */
  authToken: z
    .string({ error: 'required: the auth token, in the file or in GATEHOUSE_TWILIO_AUTH_TOKEN' })
    .min(16, 'too short for a Twilio auth token')
    .max(128),
  /** Where the REST API is: only for tests and forwarding proxies (default https://api.twilio.com). */
  apiBaseUrl: httpUrl.optional(),
  /** A request to the API that takes longer than this fails (and the user is told to try again). */
  requestTimeoutSeconds: z.number().int().min(1).max(60).default(10),
};

const e164 = z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number such as +441632960001');
/** An alphanumeric sender ID ("Gatehouse"), where the destination network allows one. */
const senderId = z.string().regex(/^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/, 'up to 11 letters and digits');

export const twilioVoiceSchema = z
  .object({
    provider: z.literal('twilio'),
    ...credentials,
    /** The Twilio number calls come from. */
    from: e164,
    /** How long the phone rings before the call counts as not answered. */
    ringSeconds: z.number().int().min(5).max(60).default(30),
    /** How long the automated voice waits for a key after each prompt (it asks twice). */
    keySeconds: z.number().int().min(3).max(30).default(8),
    /** Twilio hangs up after this long whatever happens: a cap on the cost of one call. */
    maxCallSeconds: z.number().int().min(30).max(600).default(120),
    /** The portal's address as Twilio reaches it, for webhooks; default: the top-level publicUrl. */
    webhookBaseUrl: httpUrl.optional(),
  })
  .strict();

export const twilioTextSchema = z
  .object({
    provider: z.literal('twilio'),
    ...credentials,
    from: e164.or(senderId).optional(),
    /** A Messaging Service (sender pools, alphanumeric IDs per country) instead of `from`. */
    messagingServiceSid: z
      .string()
      .regex(/^MG[0-9a-fA-F]{32}$/, 'a Messaging Service SID: MG followed by 32 hexadecimal characters')
      .optional(),
  })
  .strict()
  .refine((s) => (s.from === undefined) !== (s.messagingServiceSid === undefined), {
    message: 'give either "from" or "messagingServiceSid" (one of them)',
  });

export type TwilioVoiceSettings = z.infer<typeof twilioVoiceSchema>;
export type TwilioTextSettings = z.infer<typeof twilioTextSchema>;
