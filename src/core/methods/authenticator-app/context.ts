import type { AuditLog } from '../../audit/audit-log.ts';
import type { Clock, Random } from '../../clock.ts';
import type { SecretBox } from '../../crypto/secret-box.ts';
import type { EventBus } from '../../events/bus.ts';
import type { Store } from '../../store.ts';
import type { Throttle } from '../../throttle/throttle.ts';
import type { DeviceNotifier } from './notifier.ts';
import type { PushSettings } from './settings.ts';

/** What the authenticator-app method needs, passed in. */
export interface AppContext {
  store: Store;
  clock: Clock;
  random: Random;
  audit: AuditLog;
  secrets: SecretBox;
  settings: PushSettings;
  /** Counts denials and wrong numbers per account; its lock is the push block. */
  pushFailures: Throttle;
  /** Wakes the app when it is closed (Web Push); absent when not configured. */
  notifier?: DeviceNotifier | undefined;
  /** Tells open streams and waiting pages, on every instance, that a request changed. */
  events: EventBus;
}

export const pushKey = (accountId: string) => `push:account:${accountId}`;
