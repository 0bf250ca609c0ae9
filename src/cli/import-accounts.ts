import { createReadStream, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import type { ImportRequest } from '../core/accounts/bulk-import.ts';
import type { GatehouseError } from '../core/errors.ts';
import type { Core } from '../core/index.ts';
import { describeZodError, importRowSchema } from './account-input.ts';
import { cliMessages } from './messages.ts';

/** Larger is more likely the wrong file than a directory (1.5 million rows are about 250 MiB). */
export const MAX_IMPORT_BYTES = 4 * 1024 * 1024 * 1024;
/** Rows judged and written together: one transaction of a few multi-row statements. */
export const IMPORT_BATCH_ROWS = 1000;
const REQUIRED_COLUMNS = ['email', 'name'];
const PASSWORD_COLUMNS = ['password', 'password_hash'];
const KNOWN_COLUMNS = new Set([...REQUIRED_COLUMNS, ...PASSWORD_COLUMNS, 'shared_mailbox', 'groups']);

export interface ImportReport {
  imported: number;
  rejected: { line: number; email: string; reason: string }[];
}

interface PendingRow {
  line: number;
  request: ImportRequest;
}

/**
 * Adds each valid row as one account, atomically; a rejected row writes nothing and is reported
 * with its line number and the reason. `dryRun` validates without writing. The file is read as a
 * stream and written in batches, so memory stays flat however many rows it has.
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

  // A dry run writes nothing, so addresses repeated across batches are remembered here.
  const seenInDryRun = new Set<string>();
  const flush = async (batch: PendingRow[]) => {
    let requests = batch;
    if (dryRun) {
      requests = batch.filter((row) => {
        if (!seenInDryRun.has(row.request.email)) return true;
        reject(row, cliMessages.account_exists ?? 'account_exists');
        return false;
      });
    }
    const outcomes = await core.accounts.importBatch(
      requests.map((r) => r.request),
      actor,
      { dryRun },
    );
    outcomes.forEach((outcome, i) => {
      const row = requests[i] as PendingRow;
      if (outcome) reject(row, reasonOf(outcome));
      else {
        report.imported += 1;
        if (dryRun) seenInDryRun.add(row.request.email);
      }
    });
  };
  const reject = (row: PendingRow, reason: string) =>
    report.rejected.push({ line: row.line, email: row.request.email, reason });

  let batch: PendingRow[] = [];
  let writing: Promise<void> = Promise.resolve();
  for await (const { record, info } of parser as AsyncIterable<{
    record: Record<string, string>;
    info: { lines: number };
  }>) {
    const line = info.lines;
    const parsed = importRowSchema.safeParse(record);
    if (!parsed.success) {
      const email = String(record.email ?? '').slice(0, 254);
      report.rejected.push({ line, email, reason: describeZodError(parsed.error) });
      continue;
    }
    const row = parsed.data;
    batch.push({
      line,
      request: {
        email: row.email,
        displayName: row.name,
        credential: row.credential,
        sharedMailbox: row.shared_mailbox,
        groups: row.groups,
      },
    });
    if (batch.length >= IMPORT_BATCH_ROWS) {
      // One batch is written while the next is read and judged: the database and the parsing
      // each keep a core busy. Batches are written one after the other, in file order.
      await writing;
      writing = flush(batch);
      writing.catch(() => {}); // awaited (and thrown) before the next batch or at the end
      batch = [];
    }
  }
  await writing;
  if (batch.length > 0) await flush(batch);
  report.rejected.sort((a, b) => a.line - b.line);
  return report;
}

function reasonOf(error: GatehouseError): string {
  const words = cliMessages[error.code] ?? error.code;
  return typeof error.details.reason === 'string' ? `${words}: ${error.details.reason}` : words;
}

function checkHeader(header: string[]): string[] {
  const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  if (!PASSWORD_COLUMNS.some((c) => header.includes(c))) missing.push('password (or password_hash)');
  const unknown = header.filter((c) => !KNOWN_COLUMNS.has(c));
  if (missing.length > 0 || unknown.length > 0) {
    const parts = [];
    if (missing.length > 0) parts.push(`missing column(s): ${missing.join(', ')}`);
    if (unknown.length > 0) parts.push(`unknown column(s): ${unknown.join(', ')}`);
    throw new Error(
      `the first line must name the columns email,name,password and/or password_hash[,shared_mailbox][,groups] (${parts.join('; ')})`,
    );
  }
  return header;
}
