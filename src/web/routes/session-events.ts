import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Core } from '../../core/index.ts';
import { openEventStream, streamRegistry } from '../event-stream.ts';
import { signedIn } from '../session.ts';

/**
 * GET `path`: server-sent events for the signed-in session's waiting page. Each event only says
 * "something changed" (`event: changed`); the page then asks its status URL, which does what it
 * always did. This route itself reads no request and changes nothing: the session checks are the
 * plugin's own guards, as for the status URL.
 */
export function sessionEventsRoute(app: FastifyInstance, core: Core, path: string) {
  const streams = streamRegistry();
  app.addHook('onClose', async () => streams.stopAll());
  app.get(path, async (request: FastifyRequest, reply: FastifyReply) => {
    const { session } = signedIn(request);
    let unsubscribe: (() => void) | undefined;
    const stream = openEventStream(reply, {
      onStop() {
        unsubscribe?.();
        streams.remove(stream);
      },
    });
    streams.add(stream);
    try {
      unsubscribe = await core.authenticatorApp.watchSession(session, () => stream.send('changed', {}));
    } catch (error) {
      request.log.error({ err: error }, 'subscribing to session events failed');
      stream.stop();
      return;
    }
    if (stream.closed) unsubscribe();
    // The page asks its status once on open, so a change before the subscription is not lost.
    else stream.send('ready', {});
  });
}
