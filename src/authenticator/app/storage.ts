/**
 * The app's IndexedDB: its accounts (each with its device's private key as a non-extractable
 * CryptoKey, which IndexedDB stores as it is, so the key's bytes never reach JavaScript) and
 * its settings (the PIN's hash, or the screen lock's credential).
 */

import type { Activated } from '../client/api.ts';
import type { PinAttempts, PinHash } from './pin.ts';
import type { ScreenLock } from './screen-lock.ts';

export const DB_NAME = 'gatehouse-authenticator';
export const ACCOUNTS = 'accounts';
const SETTINGS = 'settings';

export interface StoredAccount {
  /** This app's own id for the account (a device id is only unique on its server). */
  id: string;
  server: string;
  deviceId: string;
  account: string;
  issuer: string;
  privateKey: CryptoKey;
  totp: Activated['totp'];
  addedAt: string;
  /** Whether the server was given a Web Push subscription for this account. */
  push?: boolean;
}

let opening: Promise<IDBDatabase> | undefined;

function database(): Promise<IDBDatabase> {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(ACCOUNTS)) db.createObjectStore(ACCOUNTS, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(SETTINGS)) db.createObjectStore(SETTINGS);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => {
      opening = undefined;
      reject(request.error ?? new Error('IndexedDB could not be opened'));
    };
  });
  return opening;
}

async function run<T>(
  store: string,
  mode: IDBTransactionMode,
  action: (objects: IDBObjectStore) => IDBRequest,
): Promise<T> {
  const db = await database();
  return new Promise<T>((resolve, reject) => {
    const transaction = db.transaction(store, mode);
    const request = action(transaction.objectStore(store));
    transaction.oncomplete = () => resolve(request.result as T);
    transaction.onerror = () => reject(transaction.error ?? request.error);
    transaction.onabort = () => reject(transaction.error ?? new Error('the transaction was aborted'));
  });
}

export async function listAccounts(): Promise<StoredAccount[]> {
  const accounts = await run<StoredAccount[]>(ACCOUNTS, 'readonly', (s) => s.getAll());
  return accounts.sort((a, b) => a.addedAt.localeCompare(b.addedAt));
}

export function saveAccount(account: StoredAccount): Promise<unknown> {
  return run(ACCOUNTS, 'readwrite', (s) => s.put(account));
}

export function deleteAccount(id: string): Promise<unknown> {
  return run(ACCOUNTS, 'readwrite', (s) => s.delete(id));
}

export function loadPin(): Promise<PinHash | undefined> {
  return run<PinHash | undefined>(SETTINGS, 'readonly', (s) => s.get('pin'));
}

export function savePin(pin: PinHash): Promise<unknown> {
  return run(SETTINGS, 'readwrite', (s) => s.put(pin, 'pin'));
}

export function loadScreenLock(): Promise<ScreenLock | undefined> {
  return run<ScreenLock | undefined>(SETTINGS, 'readonly', (s) => s.get('screenLock'));
}

export function saveScreenLock(lock: ScreenLock): Promise<unknown> {
  return run(SETTINGS, 'readwrite', (s) => s.put(lock, 'screenLock'));
}

export function loadPinAttempts(): Promise<PinAttempts | undefined> {
  return run<PinAttempts | undefined>(SETTINGS, 'readonly', (s) => s.get('pinAttempts'));
}

export function savePinAttempts(attempts: PinAttempts): Promise<unknown> {
  return run(SETTINGS, 'readwrite', (s) => s.put(attempts, 'pinAttempts'));
}
