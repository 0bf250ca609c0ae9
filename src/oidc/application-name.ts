import type { Core } from '../core/index.ts';
import type { Session } from '../core/model.ts';

/**
 * The name of the application a session is signing in to, for the authenticator's prompt: read
 * from the pending single sign-on interaction the session will return to, else the portal's own.
 */
export function applicationNameFor(core: Core, portalName: string) {
  return async (session: Session): Promise<string> => {
    const uid = /^\/interaction\/([A-Za-z0-9_-]{1,64})$/.exec(session.returnTo ?? '')?.[1];
    if (!uid) return portalName;
    const interaction = await core.singleSignOn.find('Interaction', uid);
    const clientId = (interaction?.payload.params as { client_id?: unknown } | undefined)?.client_id;
    const application = typeof clientId === 'string' ? await core.applications.find(clientId) : undefined;
    return application?.name ?? portalName;
  };
}
