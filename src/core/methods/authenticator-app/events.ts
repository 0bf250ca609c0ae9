import type { BusDelivery } from '../../events/bus.ts';
import type { PushRequest } from '../../model.ts';
import type { AppContext } from './context.ts';

/** The app's stream of one device listens here. */
export const deviceTopic = (deviceId: string) => `push:device:${deviceId}`;
/** The PC page (or RADIUS wait) of one session listens here; the topic names the session's hash, never its token. */
export const sessionTopic = (sessionHash: string) => `push:session:${sessionHash}`;

export type PushEventType = 'push.created' | 'push.answered' | 'push.cancelled';

/** Says a request changed, to its device's stream and to the session waiting on it. Ids only. */
export async function publishRequestEvent(
  ctx: AppContext,
  request: Pick<PushRequest, 'id' | 'deviceId' | 'sessionHash'>,
  type: PushEventType,
): Promise<void> {
  const event = { type, id: request.id };
  await Promise.all([
    ctx.events.publish(deviceTopic(request.deviceId), event),
    ctx.events.publish(sessionTopic(request.sessionHash), event),
  ]);
}

/**
 * Calls `changed` whenever something of the topic may have changed (an event, or the bus coming
 * back after losing its connection). Resolves once listening, with the way to stop.
 */
export function watchTopic(ctx: AppContext, topic: string, changed: (why: BusDelivery) => void) {
  return ctx.events.subscribe(topic, changed);
}
