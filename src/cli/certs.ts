import { readFileSync } from 'node:fs';
import pino from 'pino';
import type { Config } from '../config/config.ts';
import { emailSchema } from '../core/accounts/email.ts';
import { GatehouseError } from '../core/errors.ts';
import type { Core } from '../core/index.ts';
import { derOf } from '../core/methods/smartcard/pem.ts';
import { loadCertificateTrust } from '../smartcard/start.ts';
import { parseOptions, UsageError } from './usage.ts';

/** The smartcard settings the `certs` commands check certificates with. */
export async function certificateTrustFor(config: Config) {
  if (!config.smartcard)
    throw new UsageError('smartcard sign-in is not configured (the "smartcard" setting)');
  const { trust, settings } = await loadCertificateTrust(config.smartcard, pino({ level: 'silent' }));
  return { trust, settings };
}

function accountEmail(value: string | undefined): string {
  const parsed = emailSchema.safeParse(value ?? '');
  if (!parsed.success)
    throw new UsageError(value ? `"${value}" is not a valid email address` : 'give an email address');
  return parsed.data;
}

async function accountOf(core: Core, value: string | undefined) {
  const account = await core.accounts.find(accountEmail(value));
  if (!account) throw new GatehouseError('account_not_found');
  return account;
}

/** `certs bind|list|remove`: an operator binds a user's smartcard certificate to their account. */
export async function runCertsCommand(core: Core, sub: string, args: string[]): Promise<number> {
  switch (sub) {
    case 'bind': {
      const { positionals } = parseOptions(args, {}, 2);
      const account = await accountOf(core, positionals[0]);
      const file = positionals[1];
      if (!file) throw new UsageError('give the certificate file (PEM or DER)');
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (error) {
        throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      if (bytes.length > 256 * 1024) throw new UsageError(`${file} is too large to be a certificate`);
      const binding = await core.smartcard.bind(account, derOf(bytes, 'CERTIFICATE'), 'cli');
      console.log(
        `Bound ${binding.subject} (serial ${binding.serial}, issued by ${binding.issuer}) to ${account.email}.`,
      );
      return 0;
    }
    case 'list': {
      const { positionals } = parseOptions(args, {}, 1);
      const account = await accountOf(core, positionals[0]);
      const bindings = await core.smartcard.bindings(account.id);
      if (bindings.length === 0) console.log(`No smartcards are bound to ${account.email}.`);
      for (const b of bindings)
        console.log(
          `${b.id}\t${b.subject}\tserial ${b.serial}\tissuer ${b.issuer}\tvalid until ${b.notAfter.toISOString()}`,
        );
      return 0;
    }
    case 'remove': {
      const { positionals } = parseOptions(args, {}, 2);
      const account = await accountOf(core, positionals[0]);
      if (!positionals[1]) throw new UsageError('give the id of the binding (see certs list)');
      await core.smartcard.remove(account, positionals[1], 'cli', null);
      console.log(`Removed the smartcard ${positionals[1]} from ${account.email}.`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "certs ${sub}"`);
  }
}
