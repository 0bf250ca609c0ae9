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
  /** Every sign-in to it needs a passkey or a smartcard (which is also MFA). */
  requirePhishingResistant?: boolean;
  /** The application's own start of sign-in, linked from the portal's front page. */
  launchUrl?: string | null;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Which field of an application a refusal is about, and why (the web layer words each). */
export type ApplicationField = 'name' | 'redirectUris' | 'postLogoutRedirectUris' | 'launchUrl' | 'reason';
export type UriProblem = 'not_absolute' | 'too_long' | 'fragment' | 'not_https' | 'wildcard' | 'credentials';

const refused = (field: ApplicationField, problem: string, message: string) =>
  new GatehouseError('invalid_input', message, { field, problem });

/**
 * Redirect URIs are matched exactly; they must be absolute, without fragments, wildcards or user
 * names, HTTPS except on loopback.
 */
export function checkRedirectUri(uri: string, field: ApplicationField = 'redirectUris'): string {
  if (uri.length > 2000) throw refused(field, 'too_long', 'a redirect URI is at most 2000 characters');
  const url = URL.canParse(uri) ? new URL(uri) : undefined;
  if (!url) throw refused(field, 'not_absolute', `"${uri.slice(0, 100)}" is not an absolute URL`);
  if (url.hash || uri.includes('#'))
    throw refused(field, 'fragment', 'a redirect URI must not have a #fragment');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw refused(field, 'not_https', 'a redirect URI must use https (http only on localhost)');
  }
  // Matched exactly, a * is never a pattern: refused so that nobody thinks it is one.
  if (uri.includes('*') || /%2a/i.test(url.host))
    throw refused(field, 'wildcard', 'a redirect URI must not have a wildcard (*): give each one in full');
  if (url.username || url.password)
    throw refused(field, 'credentials', 'a redirect URI must not have a user name or password');
  return uri;
}

const MAX_NAME = 100;
const MAX_URIS = 10;

/** An application's name as people see it on the front page: 1 to 100 characters, no controls. */
export function checkName(name: string): string {
  const trimmed = name.length > 4 * MAX_NAME ? name : name.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (trimmed.length === 0 || trimmed.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(trimmed))
    throw refused('name', 'length', 'the name must be 1 to 100 characters, without control characters');
  return trimmed;
}

function checkUris(uris: readonly string[], field: ApplicationField, least: number): string[] {
  if (uris.length < least || uris.length > MAX_URIS)
    throw refused(
      field,
      'count',
      field === 'redirectUris' ? 'give 1 to 10 redirect URIs' : 'give at most 10 post-logout redirect URIs',
    );
  return [...new Set(uris.map((u) => checkRedirectUri(u, field)))];
}

/** A launch URL: absolute, HTTPS except on loopback (a fragment is allowed: it is only linked to). */
export function checkLaunchUrl(uri: string): string {
  if (uri.length > 2000) throw refused('launchUrl', 'too_long', 'a launch URL is at most 2000 characters');
  const url = URL.canParse(uri) ? new URL(uri) : undefined;
  if (!url) throw refused('launchUrl', 'not_absolute', `"${uri.slice(0, 100)}" is not an absolute URL`);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw refused('launchUrl', 'not_https', 'a launch URL must use https (http only on localhost)');
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
  const newSecret = () => random.bytes(32).toString('base64url');
  return {
    /** Registers an application; its client secret is returned this once. Checks all before writing. */
    async add(input: NewApplication, actor: string) {
      const name = checkName(input.name);
      const redirectUris = checkUris(input.redirectUris, 'redirectUris', 1);
      const postLogoutRedirectUris = checkUris(input.postLogoutRedirectUris, 'postLogoutRedirectUris', 0);
      const launchUrl = input.launchUrl ? checkLaunchUrl(input.launchUrl) : null;
      const clientSecret = input.confidential ? newSecret() : null;
      const application: Application = {
        clientId: randomUUID(),
        name,
        redirectUris,
        postLogoutRedirectUris,
        secretSealed: clientSecret ? secrets.seal(clientSecret) : null,
        requireMfa: input.requireMfa || input.requirePhishingResistant === true,
        requirePhishingResistant: input.requirePhishingResistant === true,
        launchUrl,
        createdAt: clock.now(),
        secretRotatedAt: null,
      };
      await store.transaction(async (tx) => {
        await tx.applications.insert(application);
        await audit.record(
          {
            type: 'application.added',
            actor,
            detail: {
              clientId: application.clientId,
              name,
              redirectUris,
              postLogoutRedirectUris,
              confidential: clientSecret !== null,
              requireMfa: application.requireMfa,
              requirePhishingResistant: application.requirePhishingResistant,
            },
          },
          tx,
        );
      });
      return { application, clientSecret };
    },
    list: () => store.applications.list(),
    find: (clientId: string) => store.applications.find(clientId),

    /**
     * Removes an application and everything issued to it (grants, codes, access and refresh
     * tokens): its users' single sign-on to it ends at once, on every instance.
     */
    async remove(clientId: string, actor: string, reason?: string) {
      return store.transaction(async (tx) => {
        const application = await tx.applications.find(clientId);
        if (!application || !(await tx.applications.remove(clientId)))
          throw new GatehouseError('application_not_found');
        const ended = await tx.oidcModels.removeAllForClient(clientId);
        await audit.record(
          {
            type: 'application.removed',
            actor,
            detail: {
              clientId,
              name: application.name,
              grantsAndTokensEnded: ended,
              ...(reason ? { reason } : {}),
            },
          },
          tx,
        );
        return { application, ended };
      });
    },

    /**
     * How strong every sign-in to the application must be from now on: MFA, or a passkey or
     * smartcard (which is MFA too). Sessions already signed in to it are held to it at their next
     * authorization, as the provider's login checks ask the portal session each time.
     */
    async setRequirements(
      clientId: string,
      wanted: { requireMfa: boolean; requirePhishingResistant: boolean },
      actor: string,
      reason?: string,
    ) {
      const requirements = {
        requireMfa: wanted.requireMfa || wanted.requirePhishingResistant,
        requirePhishingResistant: wanted.requirePhishingResistant,
      };
      return store.transaction(async (tx) => {
        const found = await tx.applications.find(clientId);
        if (!found || !(await tx.applications.setRequirements(clientId, requirements)))
          throw new GatehouseError('application_not_found');
        await audit.record(
          {
            type: 'application.requirements_changed',
            actor,
            detail: {
              clientId,
              name: found.name,
              from: {
                requireMfa: found.requireMfa,
                requirePhishingResistant: found.requirePhishingResistant,
              },
              to: requirements,
              ...(reason ? { reason } : {}),
            },
          },
          tx,
        );
        return { ...found, ...requirements };
      });
    },

    /**
     * A new client secret for a confidential application, returned this once. The old one stops
     * working at once: the provider reads the client from the database on each request (its
     * cache is keyed by the client's metadata, secret included), on every instance.
     */
    async rotateSecret(clientId: string, actor: string, reason?: string) {
      const clientSecret = newSecret();
      const application = await store.transaction(async (tx) => {
        const found = await tx.applications.find(clientId);
        if (!found) throw new GatehouseError('application_not_found');
        if (!found.secretSealed) throw new GatehouseError('application_public');
        const at = clock.now();
        const secretSealed = secrets.seal(clientSecret);
        // Conditional on the secret it read: of two rotations at once, one wins, the other is told.
        if (!(await tx.applications.replaceSecret(clientId, found.secretSealed, secretSealed, at)))
          throw new GatehouseError('application_changed');
        await audit.record(
          {
            type: 'application.secret_rotated',
            actor,
            detail: { clientId, name: found.name, ...(reason ? { reason } : {}) },
          },
          tx,
        );
        return { ...found, secretSealed, secretRotatedAt: at };
      });
      return { application, clientSecret };
    },

    /** The client secret in the clear, for the OpenID provider's client authentication. */
    secretOf: (application: Application) =>
      application.secretSealed ? secrets.open(application.secretSealed) : null,
  };
}

export type ApplicationService = ReturnType<typeof applicationService>;
