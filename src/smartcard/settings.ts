import { z } from 'zod';

const positiveInt = z.coerce.number().int().positive();

/** The `smartcard` setting: `Log in with my Care identity` and its certificate endpoint. */
export const smartcardConfigSchema = z
  .object({
    /** The certificate endpoint's own port: only it asks browsers for a certificate. */
    port: z.coerce.number().int().min(0).max(65535).default(8443),
    /** Where browsers reach the endpoint (default: https://<the portal's host name>:<port>). */
    publicUrl: z.url({ protocol: /^https$/ }).optional(),
    /** The endpoint's own server certificate and key (PEM); leave out behind a TLS-terminating proxy. */
    tlsCertFile: z.string().min(1).optional(),
    tlsKeyFile: z.string().min(1).optional(),
    /** PEM bundle of the CAs that issue smartcards (and their intermediates). */
    trustedCaFile: z.string().min(1),
    /** Certificate revocation lists (PEM or DER), read at start and refreshed. */
    crlFiles: z.array(z.string().min(1)).default([]),
    crlUrls: z.array(z.url({ protocol: /^https?$/ })).default([]),
    crlRefreshMinutes: positiveInt.default(60),
    /** Ask the OCSP responder a card names (before the CRL); off unless the operator allows it. */
    ocsp: z.boolean().default(false),
    ocspTimeoutSeconds: positiveInt.max(60).default(5),
    /** Refuse a card whose revocation no current, signed CRL (or OCSP answer) settles (fail closed). */
    revocationRequired: z.boolean().default(true),
    /** How a card finds its account, in order: a bound serial, SAN email, SAN UPN. */
    mapping: z
      .array(z.enum(['bound', 'email', 'upn']))
      .min(1)
      .default(['bound', 'email', 'upn']),
    ticketSeconds: positiveInt.max(600).default(120),
    /** Addresses of proxies (nginx, HAProxy) that verify the card and pass it in `certificateHeader`. */
    trustedProxies: z.array(z.string().min(1)).default([]),
    certificateHeader: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/)
      .default('X-SSL-Client-Cert'),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (!config.tlsCertFile !== !config.tlsKeyFile)
      ctx.addIssue({
        code: 'custom',
        path: ['tlsKeyFile'],
        message: 'give both tlsCertFile and tlsKeyFile, or neither',
      });
    if (!config.tlsCertFile && config.trustedProxies.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['tlsCertFile'],
        message: 'give tlsCertFile and tlsKeyFile, or trustedProxies when a proxy checks the cards',
      });
    if (
      config.revocationRequired &&
      !config.ocsp &&
      config.crlFiles.length === 0 &&
      config.crlUrls.length === 0
    )
      ctx.addIssue({
        code: 'custom',
        path: ['crlFiles'],
        message:
          "give the CAs' revocation lists (crlFiles or crlUrls) or allow ocsp, or set revocationRequired to false",
      });
  });

export type SmartcardConfig = z.infer<typeof smartcardConfigSchema>;
