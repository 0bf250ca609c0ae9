import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { AuthenticatorError, activate, DeviceAccount } from '../authenticator/client/api.ts';
import { generateDeviceKeys, importPrivateJwk, publicJwk } from '../authenticator/client/signing.ts';
import { totpCode } from '../authenticator/client/totp.ts';
import { parseOptions, UsageError } from './usage.ts';

/**
 * The command-line authenticator, for automation and tests. Its key lives in a file readable by
 * its owner only: weaker than a phone's non-extractable key, so meant for test and service use.
 */
const storedAccount = z.object({
  server: z.string(),
  account: z.string(),
  issuer: z.string(),
  deviceId: z.string(),
  privateJwk: z.record(z.string(), z.unknown()),
  totpSecret: z.string(),
});
const storeSchema = z.object({ accounts: z.array(storedAccount) });
type Store = z.infer<typeof storeSchema>;
type StoredAccount = Store['accounts'][number];

const defaultStore = () =>
  process.env.GATEHOUSE_AUTHENTICATOR_STORE ?? join(homedir(), '.config', 'gatehouse', 'authenticator.json');

function load(file: string): Store {
  if (!existsSync(file)) return { accounts: [] };
  return storeSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

function save(file: string, store: Store) {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

const deviceOf = async (a: StoredAccount) =>
  new DeviceAccount(a.server, a.deviceId, await importPrivateJwk(a.privateJwk as JsonWebKey));

export async function runAuthenticatorCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseOptions(
    rest,
    {
      store: { type: 'string' },
      name: { type: 'string' },
      server: { type: 'string' },
      number: { type: 'string' },
      report: { type: 'boolean' },
    },
    1,
  );
  const file = values.store ?? defaultStore();
  const store = load(file);
  /** The accounts named (all of them when none is), never none: that is a usage error. */
  const find = (wanted: string | undefined): [StoredAccount, ...StoredAccount[]] => {
    const [first, ...others] = store.accounts.filter((a) => !wanted || a.account === wanted);
    if (first === undefined)
      throw new UsageError(wanted ? `no account ${wanted} in ${file}` : `no accounts in ${file}`);
    return [first, ...others];
  };
  try {
    switch (sub) {
      case 'add': {
        if (!positionals[0]) throw new UsageError('give the activation link (from "Can\'t scan image?")');
        const keys = await generateDeviceKeys(true);
        const activated = await activate(
          positionals[0],
          await publicJwk(keys),
          values.name ?? `${hostname()} (command line)`.slice(0, 64),
          values.server,
        );
        const privateJwk = (await crypto.subtle.exportKey('jwk', keys.privateKey)) as Record<string, unknown>;
        store.accounts.push({
          server: activated.server,
          account: activated.account,
          issuer: activated.issuer,
          deviceId: activated.deviceId,
          privateJwk,
          totpSecret: activated.totp.secret,
        });
        save(file, store);
        console.log(
          `Added ${activated.account} (${activated.issuer}). Now approve the number shown on the PC: gatehouse authenticator requests`,
        );
        return 0;
      }
      case 'list':
        for (const a of store.accounts) console.log(`${a.account}\t${a.issuer}\t${a.server}`);
        if (store.accounts.length === 0) console.log('No accounts.');
        return 0;
      case 'requests': {
        for (const a of find(positionals[0])) {
          for (const r of await (await deviceOf(a)).requests()) {
            console.log(
              `${r.id}\t${r.purpose}\t${r.account}\t${r.application}\tfrom ${r.location}\tuntil ${r.expiresAt}`,
            );
          }
        }
        return 0;
      }
      case 'approve':
      case 'deny': {
        const requestId = positionals[0];
        if (!requestId) throw new UsageError('give the request id (see: gatehouse authenticator requests)');
        for (const a of store.accounts) {
          const device = await deviceOf(a);
          if (!(await device.requests()).some((r) => r.id === requestId)) continue;
          const status = await device.answer(requestId, sub, values.number ?? '', values.report ?? false);
          console.log(
            status === 'approved'
              ? 'Approved.'
              : status === 'denied'
                ? 'Denied.'
                : 'The number did not match: the request was closed.',
          );
          return status === 'approved' || status === 'denied' ? 0 : 1;
        }
        throw new UsageError(`no pending request ${requestId}`);
      }
      case 'code':
        for (const a of find(positionals[0]))
          console.log(`${a.account}\t${await totpCode(a.totpSecret, new Date())}`);
        return 0;
      case 'remove': {
        const [account] = find(positionals[0]);
        await (await deviceOf(account)).remove();
        store.accounts = store.accounts.filter((a) => a !== account);
        save(file, store);
        console.log(`Removed ${account.account}.`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "authenticator ${sub ?? ''}"`);
    }
  } catch (error) {
    if (error instanceof AuthenticatorError) {
      console.error(`gatehouse: ${error.message} (${error.code})`);
      return 1;
    }
    throw error;
  }
}
