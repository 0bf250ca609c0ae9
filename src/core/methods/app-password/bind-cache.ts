import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../clock.ts';

/**
 * Successful legacy binds remembered for a few seconds, for mail servers that bind again on every
 * connection (IMAP clients open several): a repeat of the same app password within the window is
 * accepted without another argon2id verification.
 *
 * - An entry is keyed by the app password's id and a MAC of what was typed, under a key that
 *   lives only in this process's memory: nothing here can be used to check a guess elsewhere, and
 *   a different password for the same app password never matches.
 * - It is consulted only after the app password was found again in the database by its
 *   fingerprint (the lookup every bind makes), so a revoked app password, a reset account or a
 *   removed one stops working at once on every instance; `drop` also forgets it here.
 * - Off (0 seconds) unless configured; entries live at most `seconds`, and the map is bounded.
 */
export interface BindCache {
  has(appPasswordId: string, typed: string): boolean;
  remember(appPasswordId: string, typed: string): void;
  drop(appPasswordId: string): void;
}

const MAX_ENTRIES = 100_000;

export function bindCache(clock: Clock, seconds: number): BindCache {
  const key = randomBytes(32);
  const entries = new Map<string, { mac: Buffer; until: number }>();
  const macOf = (typed: string) => createHmac('sha256', key).update(typed).digest();
  return {
    has(appPasswordId, typed) {
      if (seconds <= 0) return false;
      const entry = entries.get(appPasswordId);
      if (!entry) return false;
      if (entry.until <= clock.now().getTime()) {
        entries.delete(appPasswordId);
        return false;
      }
      return timingSafeEqual(entry.mac, macOf(typed));
    },
    remember(appPasswordId, typed) {
      if (seconds <= 0) return;
      if (entries.size >= MAX_ENTRIES) sweep(entries, clock.now().getTime());
      if (entries.size >= MAX_ENTRIES) entries.clear();
      entries.set(appPasswordId, { mac: macOf(typed), until: clock.now().getTime() + seconds * 1000 });
    },
    drop(appPasswordId) {
      entries.delete(appPasswordId);
    },
  };
}

function sweep(entries: Map<string, { until: number }>, now: number) {
  for (const [id, entry] of entries) if (entry.until <= now) entries.delete(id);
}
