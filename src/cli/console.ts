import { emailSchema } from '../core/accounts/email.ts';
import { CLI_ACTOR } from '../core/console/actor.ts';
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
  users enable <email> --reason "<text>"`;

export const CONSOLE_COMMANDS = new Set([
  'grant',
  'revoke',
  'search',
  'temporary-pass',
  'revoke-pass',
  'end-sessions',
  'disable',
  'enable',
]);

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
