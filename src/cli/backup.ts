import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { type Config, storeLocation } from '../config/config.ts';
import { currentSecretsKey, secretsKeyFile } from '../config/secrets-key.ts';
import { parseOptions, UsageError } from './usage.ts';

/** The table a backup file carries the secrets key in; restore takes it out again. */
const KEY_TABLE = 'gatehouse_backup';

const POSTGRES_ADVICE =
  'with PostgreSQL, back up with pg_dump and keep GATEHOUSE_SECRETS_KEY with the dump (see "Backup and restore" in the README)';

/**
 * `gatehouse backup <file>`: an online copy of the embedded database (SQLite's backup API, safe
 * while the portal runs and writes) with the secrets key inside it, so that one file restores
 * everything. The file is new (never overwritten) and readable by its owner only: it holds the key.
 */
export async function backup(config: Config, args: string[]): Promise<number> {
  const file = onePath(args, 'name the backup file to write');
  const location = storeLocation(config);
  if (location.engine !== 'sqlite')
    return refuse(`gatehouse backup is for the embedded database: ${POSTGRES_ADVICE}`);
  if (!existsSync(location.file)) return refuse(`there is no database to back up at ${location.file}`);
  const key = currentSecretsKey(config);
  if (!key)
    return refuse(`there is no secrets key (${secretsKeyFile(config)}): nothing here has been set up yet`);
  let created = false;
  try {
    closeSync(openSync(file, 'wx', 0o600));
    created = true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return refuse(`${file} already exists: refusing to overwrite it`);
    return refuse(`cannot create ${file}: ${(error as Error).message}`);
  }
  try {
    const source = new SqliteDatabase(location.file, { fileMustExist: true });
    try {
      source.pragma('busy_timeout = 5000');
      await source.backup(file);
    } finally {
      source.close();
    }
    const copy = new SqliteDatabase(file, { fileMustExist: true });
    try {
      // One self-contained file: no write-ahead log beside it.
      copy.pragma('journal_mode = DELETE');
      copy.exec(`CREATE TABLE ${KEY_TABLE} (secrets_key TEXT NOT NULL, made_at TEXT NOT NULL)`);
      copy.prepare(`INSERT INTO ${KEY_TABLE} VALUES (?, ?)`).run(key, new Date().toISOString());
    } finally {
      copy.close();
    }
    chmodSync(file, 0o600);
  } catch (error) {
    if (created) rmSync(file, { force: true });
    throw error;
  }
  console.log(
    `Backed up ${location.file} and its secrets key to ${file}. Keep it as safe as the key itself: it opens every method's secrets.`,
  );
  return 0;
}

/**
 * `gatehouse restore <file>`: puts a backup in place as the data folder's database and key. Only
 * into a folder without a database (never over one), and never beside a different key.
 */
export async function restore(config: Config, args: string[]): Promise<number> {
  const file = onePath(args, 'name the backup file to restore');
  const location = storeLocation(config);
  if (location.engine !== 'sqlite')
    return refuse(
      `gatehouse restore is for the embedded database: with PostgreSQL, restore the dump with pg_restore and set GATEHOUSE_SECRETS_KEY to the key kept with it (see the README)`,
    );
  if (!existsSync(file)) return refuse(`there is no backup file ${file}`);
  const target = location.file;
  if (existsSync(target) || existsSync(`${target}-wal`))
    return refuse(
      `${target} already exists: restore into a folder without a database (refusing to overwrite it)`,
    );

  let key: string;
  const backupFile = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
  try {
    const check = backupFile.pragma('integrity_check', { simple: true });
    if (check !== 'ok') return refuse(`${file} is damaged (${String(check)})`);
    const row = backupFile.prepare(`SELECT secrets_key FROM ${KEY_TABLE} LIMIT 1`).get() as
      | { secrets_key: string }
      | undefined;
    if (!row) return refuse(`${file} holds no secrets key`);
    key = row.secrets_key;
  } catch (error) {
    return refuse(`${file} is not a Gatehouse backup (${(error as Error).message})`);
  } finally {
    backupFile.close();
  }
  const present = currentSecretsKey(config);
  if (present !== undefined && !sameKey(present, key))
    return refuse(
      config.secretsKey
        ? "GATEHOUSE_SECRETS_KEY is not the key of this backup: unset it, or set it to the backup's key"
        : `${secretsKeyFile(config)} holds another key: restore into a fresh folder`,
    );

  mkdirSync(dirname(target), { recursive: true });
  const partial = join(dirname(target), `.restore-${process.pid}.sqlite`);
  try {
    copyFileSync(file, partial, constants.COPYFILE_EXCL);
    const copy = new SqliteDatabase(partial, { fileMustExist: true });
    try {
      copy.exec(`DROP TABLE ${KEY_TABLE}`);
      copy.pragma('journal_mode = WAL');
    } finally {
      copy.close();
    }
    chmodSync(partial, 0o600);
    if (present === undefined) writeFileSync(secretsKeyFile(config), `${key}\n`, { mode: 0o600, flag: 'wx' });
    // A hard link, not a rename: it fails rather than replace a database that appeared meanwhile.
    linkSync(partial, target);
  } finally {
    rmSync(partial, { force: true });
  }
  console.log(`Restored ${file} into ${dirname(target)}. Start Gatehouse on this folder.`);
  return 0;
}

function sameKey(a: string, b: string): boolean {
  return Buffer.from(a, 'base64').equals(Buffer.from(b, 'base64'));
}

function onePath(args: string[], missing: string): string {
  const { positionals } = parseOptions(args, {});
  const path = positionals[0];
  if (!path) throw new UsageError(missing);
  return path;
}

function refuse(text: string): number {
  console.error(`gatehouse: ${text}`);
  return 1;
}
