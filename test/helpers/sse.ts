/** One server-sent event as the stream carried it. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * A server-sent events client over real HTTP (fetch), for streams held open on a listening
 * portal: keeps every event received and lets a test wait for the next one that matches.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  /** Comment lines received (heartbeats). */
  comments = 0;
  status = 0;
  private readonly abort = new AbortController();
  private waiters: { match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }[] = [];
  private ended: Promise<void> = Promise.resolve();
  closed = false;

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    const response = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: client.abort.signal,
      // A refusal (a redirect to sign in) is the answer, not a page to follow.
      redirect: 'manual',
    });
    client.status = response.status;
    if (!response.body || response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      client.closed = true;
      return client;
    }
    client.ended = client.read(response.body);
    return client;
  }

  private async read(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          this.take(block);
        }
      }
    } catch {
      // aborted by close(), or the server went away
    } finally {
      this.closed = true;
    }
  }

  private take(block: string) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.comments++;
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) return;
    const received = { event, data: data.join('\n') };
    this.events.push(received);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(received)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(received);
      }
    }
  }

  /**
   * The first event from index `from` on that matches (already received, or the next to come).
   * Fails after `failAfterMs` so a missing event fails the test rather than hanging it.
   */
  next(match: (e: SseEvent) => boolean, from = 0, failAfterMs = 10_000): Promise<SseEvent> {
    const seen = this.events.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no matching event within ${failAfterMs} ms; got ${JSON.stringify(this.events)}`));
      }, failAfterMs);
      const done = (e: SseEvent) => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ match, resolve: done });
    });
  }

  /** The ids of the requests in the latest `requests` event (a device stream). */
  latestRequestIds(): string[] {
    const last = this.events.filter((e) => e.event === 'requests').at(-1);
    return last ? (JSON.parse(last.data) as { requests: { id: string }[] }).requests.map((r) => r.id) : [];
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.ended;
  }
}

/** Matches a device stream's `requests` event that lists the request. */
export const listing =
  (requestId: string) =>
  (e: SseEvent): boolean =>
    e.event === 'requests' &&
    (JSON.parse(e.data) as { requests: { id: string }[] }).requests.some((r) => r.id === requestId);
