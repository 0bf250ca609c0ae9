import { CLI_ACTOR } from '../core/console/actor.ts';
import type { Core } from '../core/index.ts';
import { parseOptions, UsageError } from './usage.ts';

/** What `apps require <client_id> <level>` sets. */
const REQUIREMENTS = {
  none: { requireMfa: false, requirePhishingResistant: false },
  mfa: { requireMfa: true, requirePhishingResistant: false },
  'phishing-resistant': { requireMfa: true, requirePhishingResistant: true },
} as const;

const requirementOf = (a: { requireMfa: boolean; requirePhishingResistant: boolean }) =>
  a.requirePhishingResistant ? ', passkey or smartcard required' : a.requireMfa ? ', MFA required' : '';

/** `apps add|list|remove|rotate-secret|require`: the applications that sign their users in through Gatehouse. */
export async function runAppsCommand(core: Core, sub: string, args: string[]): Promise<number> {
  switch (sub) {
    case 'add': {
      const { values } = parseOptions(
        args,
        {
          name: { type: 'string' },
          'redirect-uri': { type: 'string', multiple: true },
          'post-logout-redirect-uri': { type: 'string', multiple: true },
          public: { type: 'boolean' },
          'require-mfa': { type: 'boolean' },
          'require-phishing-resistant': { type: 'boolean' },
          'launch-url': { type: 'string' },
        },
        0,
      );
      if (!values.name) throw new UsageError('--name is required');
      const { application, clientSecret } = await core.console.applications.add(CLI_ACTOR, {
        name: values.name,
        redirectUris: values['redirect-uri'] ?? [],
        postLogoutRedirectUris: values['post-logout-redirect-uri'] ?? [],
        confidential: !values.public,
        requireMfa: values['require-mfa'] === true,
        requirePhishingResistant: values['require-phishing-resistant'] === true,
        launchUrl: values['launch-url'] ?? null,
      });
      console.log(`Added ${application.name}.`);
      console.log(`client_id:     ${application.clientId}`);
      if (clientSecret)
        console.log(
          `client_secret: ${clientSecret}   (shown once: store it in the application's configuration)`,
        );
      else console.log('public client: no secret; the application must use PKCE');
      return 0;
    }
    case 'list': {
      const applications = await core.console.applications.list();
      if (applications.length === 0) console.log('No applications.');
      for (const a of applications) {
        const kind = a.secretSealed ? 'confidential' : 'public';
        console.log(
          `${a.clientId}\t${a.name}\t${kind}${requirementOf(a)}\t${a.redirectUris.join(' ')}${a.launchUrl ? `\tlaunch ${a.launchUrl}` : ''}`,
        );
      }
      return 0;
    }
    case 'remove': {
      const { values, positionals } = parseOptions(args, { reason: { type: 'string' } }, 1);
      if (!positionals[0]) throw new UsageError('give the client_id of the application to remove');
      const { application, ended } = await core.console.applications.remove(
        CLI_ACTOR,
        positionals[0],
        values.reason,
      );
      console.log(
        `Removed ${positionals[0]} (${application.name}); ${ended} single sign-on grant(s) and token(s) ended.`,
      );
      return 0;
    }
    case 'rotate-secret': {
      const { values, positionals } = parseOptions(args, { reason: { type: 'string' } }, 1);
      if (!positionals[0]) throw new UsageError('give the client_id of the application');
      const { application, clientSecret } = await core.console.applications.rotateSecret(
        CLI_ACTOR,
        positionals[0],
        values.reason,
      );
      console.log(
        `New client secret for ${application.name} (${application.clientId}); the old one no longer works.`,
      );
      console.log(
        `client_secret: ${clientSecret}   (shown once: store it in the application's configuration)`,
      );
      return 0;
    }
    case 'require': {
      const { values, positionals } = parseOptions(args, { reason: { type: 'string' } }, 2);
      const [clientId, level] = positionals;
      if (!clientId || !level || !(level in REQUIREMENTS))
        throw new UsageError('give the client_id and one of: none, mfa, phishing-resistant');
      const application = await core.console.applications.setRequirements(
        CLI_ACTOR,
        clientId,
        REQUIREMENTS[level as keyof typeof REQUIREMENTS],
        values.reason,
      );
      console.log(`${application.name} (${application.clientId}): every sign-in needs ${level}.`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "apps ${sub}"`);
  }
}

/** `keys rotate`: a new signing key for ID tokens; running instances pick it up within a minute. */
export async function rotateKeys(core: Core): Promise<number> {
  const kid = await core.signingKeys.rotate();
  await core.audit.record({ type: 'keys.rotated', actor: 'cli', detail: { kid } });
  console.log(
    `New signing key ${kid}. Tokens signed with the previous keys still verify until they are rotated out.`,
  );
  return 0;
}
