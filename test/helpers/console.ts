import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../src/core/clock.ts';
import { CLI_ACTOR } from '../../src/core/console/actor.ts';
import type { Core } from '../../src/core/index.ts';
import type { ConsoleRole } from '../../src/core/model.ts';
import { portalCookieNames } from '../../src/web/session.ts';
import { InjectClient } from './inject-client.ts';
import { addUser, registerCodeApp } from './portal.ts';

/**
 * A browser stand-in signed in with MFA just now (a verification-code app registered through the
 * flow), with a console role when given. Returns the client and the app's key.
 */
export async function consoleUser(
  core: Core,
  app: FastifyInstance,
  clock: Clock,
  email: string,
  role?: ConsoleRole,
) {
  await addUser(core, email, { displayName: email.split('@')[0]?.replace('.', ' ') });
  const { token, secret } = await registerCodeApp(core, email, () => clock.now());
  if (role) await core.console.grant(CLI_ACTOR, email, role);
  const client = new InjectClient(app);
  client.cookies.set(portalCookieNames(false).session, token);
  return { client, secret };
}

/**
 * Every route of the app, with its methods, read from Fastify's own route tree
 * (printRoutes without common prefixes: each line's segment continues its parent's path).
 */
export function allRoutes(app: FastifyInstance): { path: string; methods: string[] }[] {
  const routes: { path: string; methods: string[] }[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([│├└─\s]*?)([^│├└─\s].*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    const path = (stack[depth - 1] ?? '') + match[2];
    stack[depth] = path;
    stack.length = depth + 1;
    if (match[3]) routes.push({ path, methods: match[3].split(', ') });
  }
  return routes;
}
