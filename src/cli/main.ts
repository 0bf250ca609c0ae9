import { coreSettings, loadConfig, storeLocation } from '../config/config.ts';
import { secretBoxFor } from '../config/secrets-key.ts';
import { emailSchema } from '../core/accounts/email.ts';
import { CLI_ACTOR } from '../core/console/actor.ts';
import {
  GatehouseError,
  isDatabaseUnavailable,
  isGatehouseError,
  type OutageReason,
} from '../core/errors.ts';
import { type Core, createCore } from '../core/index.ts';
import { openStore } from '../store/open-store.ts';
import { describeZodError, displayNameSchema, groupNameSchema } from './account-input.ts';
import { rotateKeys, runAppsCommand } from './apps.ts';
import { runAuthenticatorCommand } from './authenticator.ts';
import { backup, restore } from './backup.ts';
import {
  CONSOLE_COMMANDS,
  CONSOLE_USAGE,
  reviewDateArg,
  runConsoleCommand,
  runExemptionsCommand,
} from './console.ts';
import { CONSOLE_DATA_USAGE, runAuditCommand, runReportsCommand } from './console-data.ts';
import { importAccounts } from './import-accounts.ts';
import { cliMessages } from './messages.ts';
import { readPassword } from './read-password.ts';
import { parseOptions, UsageError } from './usage.ts';

const USAGE = `Usage: gatehouse <command>

  serve                                     run the portal (also: npm start)
  migrate                                   apply database migrations and exit
  backup <file>                             online copy of the embedded database with its secrets key
                                            (a new file, owner-only; with PostgreSQL use pg_dump: README)
  restore <file>                            put a backup in place in a data folder without a database
  users add <email> --name "<name>" [--shared-mailbox] [--group <name>]...
                                            add an account; the password is read from standard input
  users list [--json]                       list accounts
  users remove <email>                      remove an account, its sessions and methods
  users import <file.csv> [--dry-run]       add accounts in bulk (columns: email,name,password or
                                            password_hash,shared_mailbox,groups)
  users reset-mfa <email> [--reason "<text>"]
                                            remove the account's methods, app passwords and sessions
                                            (lost phone); the user registers again at next sign-in
${CONSOLE_USAGE}
  groups exclude-from-mfa <group> --message "<text shown to members>"
                        [--owner "<who>" --reason "<text>" --review-date <YYYY-MM-DD>]
                                            with the register's terms (all three, or none)
  apps add --name <name> --redirect-uri <uri>... [--post-logout-redirect-uri <uri>]... [--launch-url <uri>] [--public] [--require-mfa] [--require-phishing-resistant]
                                            register an application for single sign-on (prints its client id and secret)
  apps list                                 list registered applications
  apps remove <client_id> [--reason "<text>"]
                                            remove an application; its sign-ins (grants, tokens) end
  apps rotate-secret <client_id> [--reason "<text>"]
                                            a new client secret, printed once; the old one stops working
  apps require <client_id> none|mfa|phishing-resistant [--reason "<text>"]
                                            what every sign-in to it needs (phishing-resistant: a passkey or smartcard)
  keys rotate                               new signing key for ID tokens (old ones still verify)
  certs bind <email> <cert.pem>             bind a smartcard certificate to an account (it must pass
                                            the same checks as a card: trusted CA, dates, usage, CRL)
  certs list <email> | certs remove <email> <id>
  audit [--user <email>] [--limit <n>] [--json]
                                            show the audit log, newest first
${CONSOLE_DATA_USAGE}
  authenticator add <activation-link> [--name <device>] | list | requests | approve <id> --number <nn>
              | deny <id> [--report] | code [<account>] | remove <account>   [--store <file>]
                                            the command-line authenticator (key in a 0600 file)`;

const ACTOR = 'cli';

async function main(argv: string[]): Promise<number> {
  const [command, sub] = argv;
  if (!command || command === '--help' || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  // The authenticator is a client of some Gatehouse server: it needs no server configuration.
  if (command === 'authenticator') return runAuthenticatorCommand(argv.slice(1));
  const config = loadConfig();
  if (command === 'serve') {
    const { startServer } = await import('../server.ts');
    const app = await startServer(config);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close());
    return -1; // keep running
  }
  // Before the database is opened: a restore must find no database, a backup needs none migrated.
  if (command === 'backup') return backup(config, argv.slice(1));
  if (command === 'restore') return restore(config, argv.slice(1));
  const store = await openStore(storeLocation(config));
  const secrets = secretBoxFor(config);
  const certs = command === 'certs' ? await import('./certs.ts') : undefined;
  const smartcard = certs ? await certs.certificateTrustFor(config) : undefined;
  const core = createCore({
    store,
    settings: coreSettings(config),
    secrets,
    ...(smartcard ? { smartcard } : {}),
  });
  try {
    switch (`${command} ${sub ?? ''}`.trim()) {
      case 'migrate':
        console.log('The database is up to date.');
        return 0;
      case 'users add':
        return await usersAdd(core, argv.slice(2));
      case 'users list':
        return await usersList(core, argv.slice(2));
      case 'users remove':
        return await usersRemove(core, argv.slice(2));
      case 'users reset-mfa':
        return await usersResetMfa(core, argv.slice(2));
      case 'users import':
        return await usersImport(core, argv.slice(2));
      case 'apps add':
      case 'apps list':
      case 'apps remove':
      case 'apps rotate-secret':
      case 'apps require':
        return await runAppsCommand(core, sub ?? '', argv.slice(2));
      case 'certs bind':
      case 'certs list':
      case 'certs remove':
        return await (await import('./certs.ts')).runCertsCommand(core, sub ?? '', argv.slice(2));
      case 'keys rotate':
        return await rotateKeys(core);
      case 'groups exclude-from-mfa':
        return await excludeGroup(core, argv.slice(2));
      default:
        if (command === 'users' && CONSOLE_COMMANDS.has(sub ?? ''))
          return await runConsoleCommand(core, sub ?? '', argv.slice(2));
        if (command === 'exemptions') return await runExemptionsCommand(core, argv.slice(1));
        if (command === 'audit' && (sub === 'list' || sub === 'export'))
          return await runAuditCommand(core, sub, argv.slice(2));
        if (command === 'reports') return await runReportsCommand(core, sub ?? '', argv.slice(2));
        if (command === 'audit') return await audit(core, argv.slice(1));
        throw new UsageError(`unknown command "${argv.slice(0, 2).join(' ')}"`);
    }
  } finally {
    await store.close();
  }
}

async function usersAdd(core: Core, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    name: { type: 'string' },
    'shared-mailbox': { type: 'boolean' },
    group: { type: 'string', multiple: true },
  });
  const email = parseEmail(positionals[0], 1);
  const name = displayNameSchema.safeParse(values.name ?? '');
  if (!name.success) throw new UsageError(`--name: ${describeZodError(name.error)}`);
  const groups = (values.group ?? []).map((g) => {
    const parsed = groupNameSchema.safeParse(g);
    if (!parsed.success) throw new UsageError(`--group: ${describeZodError(parsed.error)}`);
    return parsed.data;
  });
  const password = await readPassword();
  await core.accounts.add(
    { email, displayName: name.data, password, sharedMailbox: values['shared-mailbox'] ?? false, groups },
    ACTOR,
  );
  console.log(`Added ${email}.`);
  return 0;
}

async function usersList(core: Core, args: string[]): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean' } }, 0);
  // Written as read, a page at a time: memory stays flat with a million accounts.
  let count = 0;
  for await (const { passwordHash: _hidden, ...a } of core.accounts.listAll()) {
    if (values.json) {
      await write(`${count === 0 ? '[\n' : ',\n'}${JSON.stringify(a)}`);
    } else {
      const flags = [
        a.sharedMailbox ? 'shared mailbox' : '',
        a.mfaEnabled ? 'MFA enabled' : 'MFA not enabled',
      ]
        .filter(Boolean)
        .join(', ');
      const groups = a.groups.length > 0 ? ` [groups: ${a.groups.join(', ')}]` : '';
      await write(`${a.email}\t${a.displayName}\t${flags}${groups}\n`);
    }
    count += 1;
  }
  if (values.json) await write(count === 0 ? '[]\n' : '\n]\n');
  else if (count === 0) await write('No accounts.\n');
  return 0;
}

/** Writes to standard output, waiting while its buffer is full. */
function write(text: string): Promise<void> | undefined {
  if (process.stdout.write(text)) return;
  return new Promise((resolve) => process.stdout.once('drain', resolve));
}

async function usersRemove(core: Core, args: string[]): Promise<number> {
  const { positionals } = parse(args, {});
  const email = parseEmail(positionals[0], 1);
  await core.accounts.remove(email, ACTOR);
  console.log(`Removed ${email}.`);
  return 0;
}

async function usersResetMfa(core: Core, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { reason: { type: 'string' } });
  const email = parseEmail(positionals[0], 1);
  const account = await core.accounts.find(email);
  if (!account) throw new GatehouseError('account_not_found');
  await core.methods.resetMfa(account, ACTOR, values.reason?.trim() || undefined);
  console.log(`Reset MFA for ${email}: methods, app passwords and sessions removed.`);
  return 0;
}

async function usersImport(core: Core, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { 'dry-run': { type: 'boolean' } });
  const file = positionals[0];
  if (!file) throw new UsageError('name the CSV file to import');
  const dryRun = values['dry-run'] ?? false;
  const report = await importAccounts(core, file, ACTOR, dryRun);
  console.log(
    `${dryRun ? 'Would import' : 'Imported'} ${report.imported} account(s); rejected ${report.rejected.length} row(s).`,
  );
  for (const r of report.rejected)
    console.log(`  line ${r.line}${r.email ? ` (${r.email})` : ''}: ${r.reason}`);
  return report.rejected.length > 0 ? 1 : 0;
}

async function excludeGroup(core: Core, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    message: { type: 'string' },
    owner: { type: 'string' },
    reason: { type: 'string' },
    'review-date': { type: 'string' },
  });
  const group = groupNameSchema.safeParse(positionals[0] ?? '');
  if (!group.success) throw new UsageError(describeZodError(group.error));
  const message = (values.message ?? '').trim();
  if (!message || message.length > 1000) throw new UsageError('--message must be 1 to 1000 characters long');
  if (values.owner !== undefined || values.reason !== undefined || values['review-date'] !== undefined)
    await core.console.exemptions.exemptGroup(CLI_ACTOR, group.data, {
      message,
      owner: values.owner,
      reason: values.reason,
      reviewAt: reviewDateArg(values['review-date']),
    });
  else await core.accounts.excludeGroupFromMfa(group.data, message, ACTOR);
  console.log(`Members of "${group.data}" can no longer enable MFA themselves; they will see: ${message}`);
  return 0;
}

async function audit(core: Core, args: string[]): Promise<number> {
  const { values } = parse(
    args,
    { user: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
    0,
  );
  const limit = values.limit === undefined ? 100 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000)
    throw new UsageError('--limit must be 1 to 100000');
  const email = values.user === undefined ? undefined : parseEmail(values.user, 1);
  const events = await core.audit.list({ ...(email ? { email } : {}), limit });
  if (values.json) {
    console.log(JSON.stringify(events, null, 2));
    return 0;
  }
  if (events.length === 0) console.log('No events.');
  for (const e of events) {
    const detail = Object.keys(e.detail).length > 0 ? ` ${JSON.stringify(e.detail)}` : '';
    console.log(
      `${e.at.toISOString()}  ${e.type.padEnd(24)} ${e.email ?? '-'}  actor=${e.actor ?? '-'}  from=${e.clientAddress ?? '-'}${detail}`,
    );
  }
  return 0;
}

const parse = parseOptions;

function parseEmail(value: string | undefined, _position: number): string {
  const parsed = emailSchema.safeParse(value ?? '');
  if (!parsed.success)
    throw new UsageError(value ? `"${value}" is not a valid email address` : 'give an email address');
  return parsed.data;
}

/** What an operator reads when the database failed mid-command; the command changed nothing. */
const outageWords: Record<OutageReason, string> = {
  unreachable: 'the database does not answer; nothing was changed: try again when it is back',
  connection_lost:
    'the connection to the database was lost; the change was made in full or not at all: check, then try again',
  disk_full: 'the disk that holds the database is full; nothing was changed: free some space, then try again',
  busy: 'the database stayed busy or locked; nothing was changed: try again',
  io_error: 'the database file could not be read or written; nothing was changed: check the disk',
};

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`gatehouse: ${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (isDatabaseUnavailable(error)) {
      console.error(
        `gatehouse: ${outageWords[error.reason]} (${(error.cause as Error)?.message ?? error.message})`,
      );
      process.exitCode = 1;
    } else if (isGatehouseError(error)) {
      const reason = typeof error.details.reason === 'string' ? ` (${error.details.reason})` : '';
      const text =
        error.code === 'config_invalid'
          ? error.message
          : error.code === 'database_unreachable'
            ? `cannot reach the ${error.message}${reason}`
            : error.code === 'invalid_input' && error.message !== error.code
              ? error.message
              : (cliMessages[error.code] ?? error.code);
      console.error(`gatehouse: ${text}`);
      process.exitCode = 1;
    } else {
      console.error(`gatehouse: ${(error as Error).message ?? error}`);
      process.exitCode = 1;
    }
  },
);
