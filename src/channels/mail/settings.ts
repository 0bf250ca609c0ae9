import { z } from 'zod';

/** The organisation's mail server, which security notices are sent through. */
export const smtpConfigSchema = z
  .object({
    host: z.string().min(1),
    port: z.coerce.number().int().min(1).max(65535).default(587),
    /** `starttls`: upgrade a plain connection (port 587, required); `tls`: TLS from the start (465); `none`: a local relay only. */
    security: z.enum(['starttls', 'tls', 'none']).default('starttls'),
    user: z.string().min(1).optional(),
    /** Set from GATEHOUSE_SMTP_PASSWORD (keep it out of the configuration file). */
    password: z.string().min(1).optional(),
    /** The notices' From address, e.g. it-servicedesk@example.org. */
    from: z.string().min(3).max(254),
    /** Where users are told to go when it was not them. */
    helpText: z.string().max(300).default('contact your IT service desk at once'),
    /** How often the queue is read for notices to send. */
    pollSeconds: z.coerce.number().positive().default(10),
    /** The first wait after a failed delivery (doubling each time, at most an hour). */
    retrySeconds: z.coerce.number().positive().default(60),
  })
  .strict();

export type SmtpSettings = z.infer<typeof smtpConfigSchema>;

/** Read by loadConfig into smtp.password. */
export const SMTP_PASSWORD_VARIABLE = 'GATEHOUSE_SMTP_PASSWORD';
