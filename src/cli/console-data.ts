import { CLI_ACTOR } from '../core/console/actor.ts';
import { auditFilterOf } from '../core/console/audit-view.ts';
import { activityCsv, REGISTRATION_CATEGORIES } from '../core/console/reports.ts';
import type { Core } from '../core/index.ts';
import { parseOptions, UsageError } from './usage.ts';

/** The console's audit log and reports on the command line: the same core functions as /admin. */
export const CONSOLE_DATA_USAGE = `  audit list|export [--account <email>] [--type <event>] [--operator <email|cli>]
             [--from <YYYY-MM-DD>] [--to <YYYY-MM-DD>] [--before <id>] [--json]
                                            the audit log filtered, a page (50) newest first, or
                                            all of it as CSV on standard output (streamed)
  reports registration [--group <name>]     accounts with MFA enabled, with each method, none yet, exempt
  reports list|export <category> [--group <name>] [--after <email>]
                                            the accounts behind a number (${REGISTRATION_CATEGORIES.join(', ')})
  reports groups [--after <name>]           registration by group
  reports activity [--from <YYYY-MM-DD>] [--to <YYYY-MM-DD>] [--csv]
                                            sign-ins per day by method and outcome, lockouts, reports`;

const filterOptions = {
  account: { type: 'string' },
  type: { type: 'string' },
  operator: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
} as const;

/** Writes the chunks to standard output as they come, waiting whenever the pipe is full. */
async function stream(chunks: AsyncIterable<string>): Promise<void> {
  for await (const chunk of chunks)
    if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
}

export async function runAuditCommand(core: Core, sub: string, args: string[]): Promise<number> {
  const view = core.console.auditView;
  const { values } = parseOptions(
    args,
    { ...filterOptions, before: { type: 'string' }, json: { type: 'boolean' } },
    0,
  );
  const filter = auditFilterOf(values);
  if (sub === 'export') {
    await stream(await view.exportCsv(CLI_ACTOR, filter));
    return 0;
  }
  if (values.before !== undefined && !/^\d{1,15}$/.test(values.before))
    throw new UsageError('--before is the id of an event (from the last line of a page)');
  const page = await view.page(filter, {
    before: values.before === undefined ? undefined : Number(values.before),
  });
  if (values.json) {
    console.log(JSON.stringify(page, null, 2));
    return 0;
  }
  if (page.events.length === 0) console.log('No events.');
  for (const e of page.events) {
    const detail = Object.keys(e.detail).length > 0 ? ` ${JSON.stringify(e.detail)}` : '';
    console.log(
      `${e.id}\t${e.at.toISOString()}  ${e.type.padEnd(24)} ${e.email ?? '-'}  actor=${e.actor ?? '-'}  from=${e.clientAddress ?? '-'}${detail}`,
    );
  }
  if (page.older !== undefined) console.log(`Older: --before ${page.older}`);
  return 0;
}

export async function runReportsCommand(core: Core, sub: string, args: string[]): Promise<number> {
  const reports = core.console.reports;
  switch (sub) {
    case 'registration': {
      const { values } = parseOptions(args, { group: { type: 'string' } }, 0);
      const { counts, at } = await reports.registration({ group: values.group });
      console.log(`Registration${values.group ? ` in group "${values.group}"` : ''} at ${at.toISOString()}:`);
      for (const category of REGISTRATION_CATEGORIES)
        console.log(`${String(counts[category]).padStart(10)}  ${category}`);
      return 0;
    }
    case 'list':
    case 'export': {
      const { values, positionals } = parseOptions(args, {
        group: { type: 'string' },
        after: { type: 'string' },
      });
      const category = positionals[0];
      if (!category) throw new UsageError(`give a category: ${REGISTRATION_CATEGORIES.join(', ')}`);
      if (sub === 'export') {
        await stream(await reports.exportRegistration(CLI_ACTOR, { category, group: values.group }));
        return 0;
      }
      const list = await reports.registrationList({ category, group: values.group, after: values.after });
      if (list.accounts.length === 0) console.log('No accounts.');
      for (const a of list.accounts)
        console.log(
          `${a.email}\t${a.displayName}\t${a.mfaEnabled ? 'MFA enabled' : 'MFA not enabled'}${a.disabled ? '\tdisabled' : ''}`,
        );
      if (list.next) console.log(`More: --after ${list.next}`);
      return 0;
    }
    case 'groups': {
      const { values } = parseOptions(args, { after: { type: 'string' } }, 0);
      const { groups, next } = await reports.groups({ after: values.after });
      if (groups.length === 0) console.log('No groups.');
      for (const g of groups)
        console.log(
          `${g.group}${g.excluded ? ' (excluded from MFA)' : ''}\tmembers ${g.members}\tMFA enabled ${g.counts.mfa_enabled}\twith a method ${g.counts.registered}\texempt ${g.counts.exempt}\tno method yet ${g.counts.none}`,
        );
      if (next) console.log(`More: --after "${next}"`);
      return 0;
    }
    case 'activity': {
      const { values } = parseOptions(
        args,
        { from: { type: 'string' }, to: { type: 'string' }, csv: { type: 'boolean' } },
        0,
      );
      const activity = await reports.signInActivity({ from: values.from, to: values.to });
      if (values.csv) {
        process.stdout.write(activityCsv(activity));
        return 0;
      }
      console.log(`Sign-in activity from ${activity.from.toISOString()} to ${activity.to.toISOString()}:`);
      for (const s of activity.steps)
        console.log(`${s.day}  ${s.method.padEnd(18)} ${s.outcome.padEnd(9)} ${s.count}`);
      for (const l of activity.lockouts) console.log(`${l.day}  lockouts ${l.count}`);
      for (const r of activity.reports) console.log(`${r.day}  ${r.type} ${r.count}`);
      if (activity.steps.length + activity.lockouts.length + activity.reports.length === 0)
        console.log('No activity.');
      return 0;
    }
    default:
      throw new UsageError(`unknown command "reports ${sub}"`);
  }
}
