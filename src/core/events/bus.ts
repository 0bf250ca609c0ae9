import { z } from 'zod';

/**
 * Events between the parts of Gatehouse, and between its instances: "something changed", with ids
 * only (never a secret). Subscribers read what changed from the database; an event only tells
 * them when. Engines: in-process (below, for one instance on SQLite), PostgreSQL LISTEN/NOTIFY and
 * Redis pub/sub (src/channels/event-bus/).
 */
export interface BusEvent {
  /** What happened, e.g. "push.created". */
  type: string;
  /** The record it happened to (a push request's id). */
  id?: string;
}

/**
 * What a subscriber receives: an event of its topic, or `resync` when the bus lost its
 * connection and came back (events may have been missed: read the current state once).
 */
export type BusDelivery = { kind: 'event'; event: BusEvent } | { kind: 'resync' };

export type BusHandler = (delivery: BusDelivery) => void;

export interface EventBus {
  /** Sends to every subscriber of the topic on every instance; never throws (failures are logged). */
  publish(topic: string, event: BusEvent): Promise<void>;
  /** Resolves, with the way to unsubscribe, once events of the topic are being received. */
  subscribe(topic: string, handler: BusHandler): Promise<() => void>;
  close(): Promise<void>;
}

/**
 * The local half of every engine: who here listens to which topic. `add` and `remove` say whether
 * the topic gained its first or lost its last subscriber, so an engine listens to each topic once
 * however many streams wait on it.
 */
export class LocalFanOut {
  private readonly topics = new Map<string, Set<BusHandler>>();
  constructor(private readonly onHandlerError: (error: unknown) => void = () => {}) {}

  add(topic: string, handler: BusHandler): boolean {
    let handlers = this.topics.get(topic);
    const first = !handlers;
    if (!handlers) {
      handlers = new Set();
      this.topics.set(topic, handlers);
    }
    handlers.add(handler);
    return first;
  }

  remove(topic: string, handler: BusHandler): boolean {
    const handlers = this.topics.get(topic);
    if (!handlers?.delete(handler) || handlers.size > 0) return false;
    this.topics.delete(topic);
    return true;
  }

  has(topic: string): boolean {
    return this.topics.has(topic);
  }

  names(): string[] {
    return [...this.topics.keys()];
  }

  deliver(topic: string, event: BusEvent): void {
    for (const handler of [...(this.topics.get(topic) ?? [])]) this.call(handler, { kind: 'event', event });
  }

  /** Tells every subscriber to read afresh (after the connection came back). */
  resyncAll(): void {
    for (const handlers of [...this.topics.values()])
      for (const handler of [...handlers]) this.call(handler, { kind: 'resync' });
  }

  private call(handler: BusHandler, delivery: BusDelivery) {
    try {
      handler(delivery);
    } catch (error) {
      this.onHandlerError(error);
    }
  }
}

/** One process: publish calls the subscribers of this process, after the publisher's own step. */
export function inProcessBus(): EventBus {
  const fanOut = new LocalFanOut();
  let closed = false;
  return {
    async publish(topic, event) {
      if (closed) return;
      queueMicrotask(() => fanOut.deliver(topic, { ...event }));
    },
    async subscribe(topic, handler) {
      fanOut.add(topic, handler);
      return () => {
        fanOut.remove(topic, handler);
      };
    },
    async close() {
      closed = true;
    },
  };
}

const busEventSchema = z.object({
  type: z.string().min(1).max(64),
  id: z.string().max(128).optional(),
});

/** Checks an event from another instance before it is handed on (a bus is not trusted to be tidy). */
export function parseBusEvent(value: unknown): BusEvent | undefined {
  const parsed = busEventSchema.safeParse(value);
  if (!parsed.success) return undefined;
  return parsed.data.id === undefined
    ? { type: parsed.data.type }
    : { type: parsed.data.type, id: parsed.data.id };
}
