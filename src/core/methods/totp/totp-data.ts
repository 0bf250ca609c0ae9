import { z } from 'zod';

/** What any method holding a TOTP key stores: the key, sealed with the secrets key. */
export const totpKeyData = z.object({ totpSecret: z.string().min(1) });

/** A standard authenticator app's data: its key, and while pending, the session setting it up. */
export const totpData = totpKeyData.extend({ enrolmentSession: z.string().optional() });

export type TotpData = z.infer<typeof totpData>;
