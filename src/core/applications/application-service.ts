import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Clock, Random } from '../clock.ts';
import type { SecretBox } from '../crypto/secret-box.ts';
import { GatehouseError } from '../errors.ts';
import type { Application } from '../model.ts';
import type { Store } from '../store.ts';

export interface NewApplication {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** A server-side application that can keep a secret; otherwise a public one (PKCE only). */
  confidential: boolean;
  requireMfa: boolean;
  /** The application's own start of sign-in, linked from the portal's front page. */
  launchUrl?: string | null;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Redirect URIs are matched exactly; they must be absolute, without fragments, HTTPS except on loopback. */
export function checkRedirectUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new GatehouseError('invalid_input', `"${uri.slice(0, 100)}" is not an absolute URL`);
  }
  if (uri.length > 2000)
    throw new GatehouseError('invalid_input', 'a redirect URI is at most 2000 characters');
  if (url.hash) throw new GatehouseError('invalid_input', 'a redirect URI must not have a #fragment');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new GatehouseError('invalid_input', 'a redirect URI must use https (http only on localhost)');
  }
  return uri;
}

/** A launch URL: absolute, HTTPS except on loopback (a fragment is allowed: it is only linked to). */
export function checkLaunchUrl(uri: string): string {
  const url = URL.canParse(uri) ? new URL(uri) : undefined;
  if (!url) throw new GatehouseError('invalid_input', `"${uri.slice(0, 100)}" is not an absolute URL`);
  if (uri.length > 2000) throw new GatehouseError('invalid_input', 'a launch URL is at most 2000 characters');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new GatehouseError('invalid_input', 'a launch URL must use https (http only on localhost)');
  }
  return uri;
}

/**
 * Where selecting the application on the front page leads: its launch URL with the portal's
 * issuer added as `iss` (OpenID Connect's login initiated by a third party), or else the origin
 * of its first redirect URI (the application's home page, which offers its own sign-in).
 */
export function launchUrlOf(application: Application, issuer: string): string {
  if (application.launchUrl) {
    const url = new URL(application.launchUrl);
    url.searchParams.set('iss', issuer);
    return url.toString();
  }
  const first = application.redirectUris[0];
  return first ? `${new URL(first).origin}/` : '/';
}

/** The applications in the order the front page lists them: one named "Email" first, then by name. */
export function frontPageOrder(applications: readonly Application[]): Application[] {
  const isEmail = (a: Application) => a.name.trim().toLowerCase() === 'email';
  return [...applications].sort(
    (a, b) => Number(isEmail(b)) - Number(isEmail(a)) || a.name.localeCompare(b.name, 'en-GB'),
  );
}

export function applicationService(deps: {
  store: Store;
  clock: Clock;
  random: Random;
  audit: AuditLog;
  secrets: SecretBox;
}) {
  const { store, clock, random, audit, secrets } = deps;
  return {
    /** Registers an application; its client secret is returned this once. */
    async add(input: NewApplication, actor: string) {
      const name = input.name.trim();
      if (!name || name.length > 100)
        throw new GatehouseError('invalid_input', 'the name must be 1 to 100 characters');
      if (input.redirectUris.length === 0 || input.redirectUris.length > 10) {
        throw new GatehouseError('invalid_input', 'give 1 to 10 redirect URIs');
      }
      const clientSecret = input.confidential ? random.bytes(32).toString('base64url') : null;
      const application: Application = {
        clientId: randomUUID(),
        name,
        redirectUris: input.redirectUris.map(checkRedirectUri),
        postLogoutRedirectUris: input.postLogoutRedirectUris.map(checkRedirectUri),
        secretSealed: clientSecret ? secrets.seal(clientSecret) : null,
        requireMfa: input.requireMfa,
        launchUrl: input.launchUrl ? checkLaunchUrl(input.launchUrl) : null,
        createdAt: clock.now(),
      };
      await store.transaction(async (tx) => {
        await tx.applications.insert(application);
        await audit.record(
          {
            type: 'application.added',
            actor,
            detail: { clientId: application.clientId, name, redirectUris: application.redirectUris },
          },
          tx,
        );
      });
      return { application, clientSecret };
    },
    list: () => store.applications.list(),
    find: (clientId: string) => store.applications.find(clientId),
    async remove(clientId: string, actor: string) {
      if (!(await store.applications.remove(clientId))) throw new GatehouseError('application_not_found');
      await audit.record({ type: 'application.removed', actor, detail: { clientId } });
    },
    /** The client secret in the clear, for the OpenID provider's client authentication. */
    secretOf: (application: Application) =>
      application.secretSealed ? secrets.open(application.secretSealed) : null,
  };
}

export type ApplicationService = ReturnType<typeof applicationService>;
