import type { DatabaseConnection, Dialect, Driver, QueryResult } from 'kysely';
import { DatabaseUnavailableError, type OutageReason } from '../core/errors.ts';

/** Tells an error that means "the database is away" from any other (a constraint, a bug). */
export type OutageClassifier = (error: unknown) => OutageReason | undefined;

const pgUnreachable = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);
const pgLost = new Set(['ECONNRESET', 'EPIPE']);

/**
 * PostgreSQL: the server is down, starting, shutting down or failing over (SQLSTATE class 08,
 * 57P01-57P03), too busy for one more connection (53300), or the socket failed; pg's own words
 * for a connection it lost or could not open within connectionTimeoutMillis.
 */
export const postgresOutage: OutageClassifier = (error) => {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = 'code' in error ? String(error.code) : '';
  const message = error instanceof Error ? error.message : '';
  if (code.startsWith('08') || code === '57P03') return 'unreachable';
  if (code === '57P01' || code === '57P02') return 'connection_lost';
  if (code === '53300') return 'busy';
  if (pgUnreachable.has(code)) return 'unreachable';
  if (pgLost.has(code)) return 'connection_lost';
  if (/^timeout exceeded when trying to connect/i.test(message)) return 'unreachable';
  if (/^Connection terminated|not queryable|^Connection ended/i.test(message)) return 'connection_lost';
  return undefined;
};

/** SQLite: the disk is full, the file cannot be read or written, or it stayed locked too long. */
export const sqliteOutage: OutageClassifier = (error) => {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = String(error.code);
  if (code === 'SQLITE_FULL') return 'disk_full';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) return 'io_error';
  return undefined;
};

/**
 * SQLite rolls a transaction back by itself when a statement fails with SQLITE_FULL or an I/O
 * error; Kysely's ROLLBACK then fails with this, which would hide the error that mattered.
 */
export const sqliteRolledBackAlready = (error: unknown): boolean =>
  error instanceof Error && /no transaction is active/.test(error.message);

/**
 * The dialect, with every error that means the database is away turned into one typed error,
 * DatabaseUnavailableError, wherever it happens: connecting, a statement, begin, commit or rollback.
 * Every other error (a unique violation the repositories look for) passes through unchanged.
 */
export function withOutageErrors(
  dialect: Dialect,
  classify: OutageClassifier,
  rolledBackAlready: (error: unknown) => boolean = () => false,
): Dialect {
  const translate = (error: unknown): unknown => {
    if (error instanceof DatabaseUnavailableError) return error;
    const reason = classify(error);
    return reason ? new DatabaseUnavailableError(reason, error) : error;
  };
  const guard = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw translate(error);
    }
  };
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => translatingDriver(dialect.createDriver(), guard, translate, rolledBackAlready),
  };
}

type Guard = <T>(work: () => Promise<T>) => Promise<T>;

function translatingDriver(
  inner: Driver,
  guard: Guard,
  translate: (error: unknown) => unknown,
  rolledBackAlready: (error: unknown) => boolean,
): Driver {
  // Kysely hands our connection back to the driver; the driver must get its own.
  const own = new WeakMap<DatabaseConnection, DatabaseConnection>();
  const unwrap = (connection: DatabaseConnection) => own.get(connection) ?? connection;
  const wrap = (connection: DatabaseConnection): DatabaseConnection => {
    const outer: DatabaseConnection = {
      executeQuery: <R>(query: Parameters<DatabaseConnection['executeQuery']>[0]) =>
        guard(() => connection.executeQuery<R>(query)),
      async *streamQuery<R>(
        query: Parameters<DatabaseConnection['streamQuery']>[0],
        chunkSize?: number,
      ): AsyncIterableIterator<QueryResult<R>> {
        try {
          yield* connection.streamQuery<R>(query, chunkSize);
        } catch (error) {
          throw translate(error);
        }
      },
    };
    own.set(outer, connection);
    return outer;
  };
  const driver: Driver = {
    init: () => guard(() => inner.init()),
    acquireConnection: () => guard(async () => wrap(await inner.acquireConnection())),
    beginTransaction: (c, settings) => guard(() => inner.beginTransaction(unwrap(c), settings)),
    commitTransaction: (c) => guard(() => inner.commitTransaction(unwrap(c))),
    rollbackTransaction: (c) =>
      guard(async () => {
        try {
          await inner.rollbackTransaction(unwrap(c));
        } catch (error) {
          // Already undone by the database: what ROLLBACK was for. The statement's error stands.
          if (!rolledBackAlready(error)) throw error;
        }
      }),
    releaseConnection: (c) => inner.releaseConnection(unwrap(c)),
    destroy: () => inner.destroy(),
  };
  const { savepoint, rollbackToSavepoint, releaseSavepoint } = inner;
  if (savepoint)
    driver.savepoint = (c, name, compile) => guard(() => savepoint.call(inner, unwrap(c), name, compile));
  if (rollbackToSavepoint)
    driver.rollbackToSavepoint = (c, name, compile) =>
      guard(() => rollbackToSavepoint.call(inner, unwrap(c), name, compile));
  if (releaseSavepoint)
    driver.releaseSavepoint = (c, name, compile) =>
      guard(() => releaseSavepoint.call(inner, unwrap(c), name, compile));
  return driver;
}
