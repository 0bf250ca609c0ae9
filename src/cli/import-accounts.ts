import { createReadStream, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import { isGatehouseError } from '../core/errors.ts';
import type { Core } from '../core/index.ts';
import { describeZodError, importRowSchema } from './account-input.ts';
import { cliMessages } from './messages.ts';

export const MAX_IMPORT_BYTES = 200 * 1024 * 1024;
const REQUIRED_COLUMNS = ['email', 'name', 'password'];
const KNOWN_COLUMNS = new Set([...REQUIRED_COLUMNS, 'shared_mailbox', 'groups']);

export interface ImportReport {
  imported: number;
  rejected: { line: number; email: string; reason: string }[];
}

/**
 * Adds each valid row as one account, atomically; a rejected row writes nothing and is reported
 * with its line number and the reason. `dryRun` validates without writing.
 */
export async function importAccounts(
  core: Core,
  file: string,
  actor: string,
  dryRun = false,
): Promise<ImportReport> {
  const size = statSync(file).size;
  if (size > MAX_IMPORT_BYTES)
    throw new Error(`the file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MiB`);

  const report: ImportReport = { imported: 0, rejected: [] };
  const parser = createReadStream(file).pipe(
    parse({
      columns: (header: string[]) => checkHeader(header.map((h) => h.trim().toLowerCase())),
      bom: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      max_record_size: 64 * 1024,
      info: true,
      trim: false,
    }),
  );
  parser.on('skip', (error: Error & { lines?: number }) => {
    report.rejected.push({
      line: error.lines ?? 0,
      email: '',
      reason: `the row cannot be read: ${error.message}`,
    });
  });

  const seen = new Set<string>();
  for await (const { record, info } of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { lines: number };
  }>) {
    const line = info.lines;
    const email = String(record.email ?? '').slice(0, 254);
    const parsed = importRowSchema.safeParse(record);
    if (!parsed.success) {
      report.rejected.push({ line, email, reason: describeZodError(parsed.error) });
      continue;
    }
    const row = parsed.data;
    try {
      if (dryRun) {
        if (seen.has(row.email) || (await core.accounts.find(row.email)))
          throw new Error(cliMessages.account_exists);
        seen.add(row.email);
      } else {
        await core.accounts.add(
          {
            email: row.email,
            displayName: row.name,
            password: row.password,
            sharedMailbox: row.shared_mailbox,
            groups: row.groups,
          },
          actor,
        );
      }
      report.imported += 1;
    } catch (error) {
      const reason = isGatehouseError(error)
        ? (cliMessages[error.code] ?? error.code)
        : (error as Error).message;
      report.rejected.push({ line, email: row.email, reason });
    }
  }
  report.rejected.sort((a, b) => a.line - b.line);
  return report;
}

function checkHeader(header: string[]): string[] {
  const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  const unknown = header.filter((c) => !KNOWN_COLUMNS.has(c));
  if (missing.length > 0 || unknown.length > 0) {
    const parts = [];
    if (missing.length > 0) parts.push(`missing column(s): ${missing.join(', ')}`);
    if (unknown.length > 0) parts.push(`unknown column(s): ${unknown.join(', ')}`);
    throw new Error(
      `the first line must name the columns email,name,password[,shared_mailbox][,groups] (${parts.join('; ')})`,
    );
  }
  return header;
}
