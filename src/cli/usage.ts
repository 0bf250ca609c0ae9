import { parseArgs } from 'node:util';

/** A mistake in how the command was called: exit code 2 and the usage. */
export class UsageError extends Error {}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** node:util's parseArgs, with its errors and extra arguments turned into UsageErrors. */
export function parseOptions<T extends Options>(args: string[], options: T, maxPositionals = 1) {
  let result: ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true }>>;
  try {
    result = parseArgs({ args, options, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (result.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument "${result.positionals[maxPositionals]}"`);
  }
  return result;
}
