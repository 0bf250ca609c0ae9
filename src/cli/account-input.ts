import { z } from 'zod';
import { emailSchema } from '../core/accounts/email.ts';

export const displayNameSchema = z
  .string()
  .trim()
  .min(1, 'a display name is required')
  .max(200, 'the display name must be at most 200 characters')
  .refine((name) => !/[\p{Cc}]/u.test(name), 'the display name must not contain control characters');

export const groupNameSchema = z
  .string()
  .trim()
  .min(1, 'a group name must not be empty')
  .max(100, 'a group name must be at most 100 characters')
  .refine((name) => !/[\p{Cc}]/u.test(name), 'a group name must not contain control characters');

const yesNo = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['', 'yes', 'no', 'true', 'false', '1', '0'], { message: 'shared_mailbox must be yes or no' }))
  .transform((v) => v === 'yes' || v === 'true' || v === '1');

/** One row of `users import`: email,name,password,shared_mailbox,groups (groups separated by ;). */
export const importRowSchema = z.object({
  email: emailSchema,
  name: displayNameSchema,
  password: z.string().min(1, 'a password is required'),
  shared_mailbox: yesNo.default(false),
  groups: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(';')
        .map((g) => g.trim())
        .filter(Boolean),
    )
    .pipe(z.array(groupNameSchema).max(50, 'at most 50 groups')),
});

export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.join('.');
      if (field === 'email') return 'the email address is not valid';
      // Our own messages are whole sentences; zod's generic ones need the column named.
      const ownSentence = /^(a|an|the|at most) /.test(issue.message) || issue.message.startsWith(field);
      return field && !ownSentence ? `${field}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
