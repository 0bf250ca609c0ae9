import type { FastifyInstance } from 'fastify';
import type { Core } from '../../../core/index.ts';
import { accountRoutes } from './accounts.ts';
import { applicationRoutes } from './applications.ts';
import { auditRoutes } from './audit.ts';
import { exemptionRoutes } from './exemptions.ts';
import { guardConsole } from './guard.ts';
import { reportRoutes } from './reports.ts';

/**
 * The operator console under /admin (issue 13). Every route registered in this plugin is guarded
 * by guardConsole: add new console routes here, never elsewhere (test/web/admin-routes.test.ts
 * enumerates the app's routes and fails on an /admin route outside the guard).
 */
export function adminRoutes(core: Core) {
  return async (app: FastifyInstance) => {
    guardConsole(app, core);
    await app.register(accountRoutes(core));
    await app.register(exemptionRoutes(core));
    await app.register(auditRoutes(core));
    await app.register(reportRoutes(core));
    await app.register(applicationRoutes(core));
  };
}
