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

/** The password_hash value of an account without a password (it signs in with a smartcard only). */
export const NO_PASSWORD = 'none';

/**
 * One row of `users import`: email,name,password or password_hash,shared_mailbox,groups (groups
 * separated by ;). A row gives either a password in plain text or an existing hash, never both;
 * password_hash `none` makes an account without a password.
 */
export const importRowSchema = z
  .object({
    email: emailSchema,
    name: displayNameSchema,
    password: z.string().default(''),
    password_hash: z.string().trim().max(1024, 'the password_hash is too long').default(''),
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
  })
  .superRefine((row, ctx) => {
    if (row.password !== '' && row.password_hash !== '')
      ctx.addIssue({
        code: 'custom',
        path: ['password_hash'],
        message: 'a row gives a password or a password_hash, not both',
      });
    else if (row.password === '' && row.password_hash === '')
      ctx.addIssue({
        code: 'custom',
        path: ['password'],
        message: `a password is required (or a password_hash; "${NO_PASSWORD}" for an account without a password)`,
      });
  })
  .transform(({ password, password_hash, ...row }) => ({
    ...row,
    credential:
      password !== ''
        ? ({ kind: 'password', password } as const)
        : password_hash === NO_PASSWORD
          ? ({ kind: 'none' } as const)
          : ({ kind: 'hash', passwordHash: password_hash } as const),
  }));

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
