import type { FastifyInstance, FastifyReply } from 'fastify';
import { templateEngine } from './render.ts';

export interface PageContext {
  title: string;
  errors?: { text: string; href: string }[];
  [key: string]: unknown;
}

declare module 'fastify' {
  interface FastifyReply {
    /** Renders a page of src/web/views/pages with the layout's common values. */
    page(template: string, context: PageContext, status?: number): FastifyReply;
  }
}

type Organisation = { name: string; logoUrl?: string | undefined };

/** Renders a page outside a fastify reply (for the OpenID provider's own pages): no user, no form token. */
export function pageRenderer(organisation: Organisation) {
  const engine = templateEngine();
  return (template: string, context: Record<string, unknown>) =>
    engine.render(`pages/${template}.njk`, { organisation, user: null, fieldErrors: {}, ...context });
}

export function registerPageRendering(app: FastifyInstance, options: { organisation: Organisation }): void {
  const engine = templateEngine();
  app.decorateReply('page', function page(this: FastifyReply, template, context, status = 200) {
    const auth = this.request.auth;
    const html = engine.render(`pages/${template}.njk`, {
      organisation: options.organisation,
      user: auth ? { ...auth.account, stage: auth.session.stage } : null,
      csrfToken: this.generateCsrf(),
      fieldErrors: {},
      ...context,
    });
    this.header('cache-control', 'no-store');
    return this.code(status).type('text/html; charset=utf-8').send(html);
  });
}
