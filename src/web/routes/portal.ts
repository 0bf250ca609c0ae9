import type { FastifyInstance, FastifyRequest } from 'fastify';
import { frontPageOrder, launchUrlOf } from '../../core/applications/application-service.ts';
import type { Core } from '../../core/index.ts';
import { publicUrlOf } from '../public-url.ts';
import { homeFor, signedIn } from '../session.ts';

export interface PortalOptions {
  /** Single sign-on is served, so the registered applications can be opened from the front page. */
  singleSignOn: boolean;
  publicUrl?: string | undefined;
}

/**
 * The front page. Before sign-in it lists the applications registered for single sign-on (the
 * guide: "Select 'Email'"), each leading to its own start of sign-in, which comes back to the
 * portal's sign-in page; with none, it is the sign-in page. Signed in, it is the home page.
 */
export function portalRoutes(core: Core, options: PortalOptions) {
  const applicationsFor = async (request: FastifyRequest) => {
    if (!options.singleSignOn) return [];
    const issuer = `${publicUrlOf(request, options.publicUrl)}/oidc`;
    return frontPageOrder(await core.applications.list()).map((a) => ({
      name: a.name,
      href: launchUrlOf(a, issuer),
    }));
  };
  return async (app: FastifyInstance) => {
    app.get('/', async (request, reply) => {
      const auth = request.auth;
      if (!auth) {
        const applications = await applicationsFor(request);
        if (applications.length === 0) return reply.redirect('/signin', 303);
        return reply.page('front', { title: 'Welcome', applications });
      }
      if (auth.session.stage !== 'complete') return reply.redirect(homeFor(auth.session.stage), 303);
      const flash = await core.sessions.takeFlash(signedIn(request).session);
      return reply.page('home', { title: 'Home', flash, applications: await applicationsFor(request) });
    });
  };
}
