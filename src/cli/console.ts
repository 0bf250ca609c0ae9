import { emailSchema } from '../core/accounts/email.ts';
import { CLI_ACTOR } from '../core/console/actor.ts';
import { registerCsv } from '../core/console/exemptions.ts';
import type { Core } from '../core/index.ts';
import type { ConsoleRole } from '../core/model.ts';
import { parseOptions, UsageError } from './usage.ts';

/** The operator console's command-line twins: each goes through the same core functions. */
export const CONSOLE_USAGE = `  users grant <email> operator|auditor      give the account a console role (/admin)
  users revoke <email>                      take its console role away
  users search <prefix> [--page <n>]        accounts whose email or name starts with <prefix>
  users temporary-pass <email> --lifetime <minutes> [--multi-use] --reason "<text>"
                                            a Temporary Access Pass (10 to 480 minutes), printed once
  users revoke-pass <email> --reason "<text>"
  users end-sessions <email> --reason "<text>"
  users disable <email> --reason "<text>"   the account signs in nowhere; its sessions end
  users enable <email> --reason "<text>"
  users exempt <email> --owner "<who>" --reason "<text>" --review-date <YYYY-MM-DD>
                                            the account is exempt from MFA until the review date
  users unexempt <email> --reason "<text>"
  exemptions [--csv]                        the exemption register, due within 30 days first`;

export const CONSOLE_COMMANDS = new Set([
  'grant',
  'revoke',
  'search',
  'temporary-pass',
  'revoke-pass',
  'end-sessions',
  'disable',
  'enable',
  'exempt',
  'unexempt',
]);

/** A review date as YYYY-MM-DD (midnight UTC); anything else is no date (refused by the core). */
export function reviewDateArg(value: string | undefined): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value ?? '');
  if (!match) return new Date(Number.NaN);
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value ?? '')
    ? date
    : new Date(Number.NaN);
}

export async function runExemptionsCommand(core: Core, args: string[]): Promise<number> {
  const { values } = parseOptions(args, { csv: { type: 'boolean' } }, 0);
  const entries = await core.console.exemptions.list();
  if (values.csv) {
    process.stdout.write(registerCsv(entries));
    return 0;
  }
  if (entries.length === 0) console.log('No exemptions.');
  for (const e of entries)
    console.log(
      `${e.status.padEnd(8)} ${e.kind.padEnd(8)} ${e.name}\treview ${e.reviewAt?.toISOString().slice(0, 10) ?? '-'}\towner ${e.owner ?? '-'}\t${e.reason ?? ''}`,
    );
  return 0;
}

function emailArg(value: string | undefined): string {
  const parsed = emailSchema.safeParse(value ?? '');
  if (!parsed.success)
    throw new UsageError(value ? `"${value}" is not a valid email address` : 'give an email address');
  return parsed.data;
}

export async function runConsoleCommand(core: Core, sub: string, args: string[]): Promise<number> {
  const actor = CLI_ACTOR;
  switch (sub) {
    case 'grant': {
      const { positionals } = parseOptions(args, {}, 2);
      const email = emailArg(positionals[0]);
      const role = positionals[1];
      if (role !== 'operator' && role !== 'auditor') throw new UsageError('the role is operator or auditor');
      await core.console.grant(actor, email, role as ConsoleRole);
      console.log(`${email} is now ${role === 'operator' ? 'an operator' : 'an auditor'} of the console.`);
      return 0;
    }
    case 'revoke': {
      const { positionals } = parseOptions(args, {});
      const email = emailArg(positionals[0]);
      const had = await core.console.revoke(actor, email);
      console.log(had ? `${email} no longer has a console role.` : `${email} had no console role.`);
      return 0;
    }
    case 'search': {
      const { values, positionals } = parseOptions(args, { page: { type: 'string' } });
      const page = values.page === undefined ? 1 : Number(values.page);
      const { accounts, more } = await core.console.search(positionals[0] ?? '', page);
      for (const a of accounts)
        console.log(
          `${a.email}\t${a.displayName}\t${a.mfaEnabled ? 'MFA enabled' : 'MFA not enabled'}${a.disabledAt ? '\tdisabled' : ''}`,
        );
      if (accounts.length === 0) console.log('No accounts.');
      if (more) console.log(`More: --page ${page + 1}`);
      return 0;
    }
    case 'temporary-pass': {
      const { values, positionals } = parseOptions(args, {
        lifetime: { type: 'string' },
        'multi-use': { type: 'boolean' },
        reason: { type: 'string' },
      });
      const email = emailArg(positionals[0]);
      const lifetimeMinutes = /^\d{1,4}$/.test(values.lifetime ?? '') ? Number(values.lifetime) : Number.NaN;
      const oneTime = !values['multi-use'];
      const issued = await core.console.issuePass(actor, email, {
        lifetimeMinutes,
        oneTime,
        reason: values.reason,
      });
      console.log(
        `Temporary Access Pass for ${email} (${oneTime ? 'one sign-in' : 'multi-use'}, until ${issued.expiresAt.toISOString()}):`,
      );
      console.log(issued.pass);
      return 0;
    }
    case 'exempt': {
      const { values, positionals } = parseOptions(args, {
        owner: { type: 'string' },
        reason: { type: 'string' },
        'review-date': { type: 'string' },
      });
      const email = emailArg(positionals[0]);
      const reviewAt = reviewDateArg(values['review-date']);
      await core.console.exemptions.exemptAccount(actor, email, {
        owner: values.owner,
        reason: values.reason,
        reviewAt,
      });
      console.log(`${email} is exempt from MFA until ${values['review-date']}.`);
      return 0;
    }
    case 'unexempt': {
      const { values, positionals } = parseOptions(args, { reason: { type: 'string' } });
      const email = emailArg(positionals[0]);
      const had = await core.console.exemptions.removeAccountExemption(actor, email, values.reason);
      console.log(had ? `${email} is no longer exempt from MFA.` : `${email} had no exemption of its own.`);
      return 0;
    }
    default: {
      const { values, positionals } = parseOptions(args, { reason: { type: 'string' } });
      const email = emailArg(positionals[0]);
      if (sub === 'revoke-pass') {
        const had = await core.console.revokePass(actor, email, values.reason);
        console.log(
          had ? `Revoked the Temporary Access Pass of ${email}.` : `${email} had no Temporary Access Pass.`,
        );
      } else if (sub === 'end-sessions') {
        const ended = await core.console.endSessions(actor, email, values.reason);
        console.log(`Ended ${ended} session(s) of ${email}.`);
      } else {
        const disabled = sub === 'disable';
        const changed = await core.console.setDisabled(actor, email, disabled, values.reason);
        console.log(
          changed
            ? `${email} is ${disabled ? 'disabled: it cannot sign in anywhere, its sessions ended' : 're-enabled'}.`
            : `${email} was already ${disabled ? 'disabled' : 'enabled'}.`,
        );
      }
      return 0;
    }
  }
}
