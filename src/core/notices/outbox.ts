import type { Clock } from '../clock.ts';
import type { Notice } from '../model.ts';
import type { Store } from '../store.ts';

/**
 * The queue of security notices as a sender sees it (the mail channel): take what is due, then
 * say whether the mail server accepted each. The clock is the core's.
 */
export interface NoticeOutbox {
  /** Claims up to `limit` due notices for `leaseMs`; another sender gets none of them meanwhile. */
  claimDue(leaseMs: number, limit: number): Promise<Notice[]>;
  markSent(id: string): Promise<void>;
  /** Leaves it queued, to be tried again in `retryInMs`. */
  markFailed(id: string, error: string, retryInMs: number): Promise<void>;
  forEmail(email: string): Promise<Notice[]>;
}

export function noticeOutbox(store: Store, clock: Clock): NoticeOutbox {
  return {
    claimDue: (leaseMs, limit) => store.notices.claimDue(clock.now(), leaseMs, limit),
    markSent: (id) => store.notices.markSent(id, clock.now()),
    markFailed: (id, error, retryInMs) =>
      store.notices.markFailed(id, error, new Date(clock.now().getTime() + retryInMs)),
    forEmail: (email) => store.notices.listForEmail(email),
  };
}
