import { z } from 'zod';

/** Addresses are compared case-insensitively, so they are stored in one case. */
export const emailSchema = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email())
  .transform((email) => email.toLowerCase());

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
