import type { ApplicationService, NewApplication } from '../applications/application-service.ts';
import { GatehouseError } from '../errors.ts';
import { type ConsoleActor, MAX_REASON_LENGTH, mustChange } from './actor.ts';

/** A reason is optional for applications (the CLI's `apps remove <id>` has none), but kept when typed. */
function optionalReason(reason: string | undefined): string | undefined {
  const text = (reason ?? '').trim();
  if (text.length > MAX_REASON_LENGTH)
    throw new GatehouseError('invalid_input', `the reason is at most ${MAX_REASON_LENGTH} characters`, {
      field: 'reason',
      problem: 'length',
    });
  return text || undefined;
}

/**
 * Applications (single sign-on clients) in the operator console and the CLI: list, add, remove,
 * rotate the secret, set what every sign-in to it needs. Every change needs an operator and is audited with the operator and the
 * application; a secret is returned once and kept only sealed (the provider must compare it).
 */
export function applicationConsole(applications: ApplicationService) {
  return {
    list: () => applications.list(),
    find: (clientId: string) => applications.find(clientId),

    async add(actor: ConsoleActor, input: NewApplication) {
      mustChange(actor);
      return applications.add(input, actor.name);
    },

    async rotateSecret(actor: ConsoleActor, clientId: string, reason?: string) {
      mustChange(actor);
      return applications.rotateSecret(clientId, actor.name, optionalReason(reason));
    },

    /** MFA, or a passkey or smartcard, for every sign-in to it from now on. */
    async setRequirements(
      actor: ConsoleActor,
      clientId: string,
      wanted: { requireMfa: boolean; requirePhishingResistant: boolean },
      reason?: string,
    ) {
      mustChange(actor);
      return applications.setRequirements(clientId, wanted, actor.name, optionalReason(reason));
    },

    async remove(actor: ConsoleActor, clientId: string, reason?: string) {
      mustChange(actor);
      return applications.remove(clientId, actor.name, optionalReason(reason));
    },
  };
}

export type ApplicationConsole = ReturnType<typeof applicationConsole>;
