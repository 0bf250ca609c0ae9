import { performance } from 'node:perf_hooks';
import type { PasswordHasher } from '../passwords/hasher.ts';
import type { CoreObserver } from './observer.ts';

/** The hasher, timing each verification for monitoring (the cost operators size instances by). */
export function observedHasher(hasher: PasswordHasher, observer: CoreObserver): PasswordHasher {
  return {
    hash: (password) => hasher.hash(password),
    needsRehash: (passwordHash) => hasher.needsRehash(passwordHash),
    async verify(passwordHash, password) {
      const started = performance.now();
      try {
        return await hasher.verify(passwordHash, password);
      } finally {
        observer.passwordChecked((performance.now() - started) / 1000);
      }
    },
  };
}
