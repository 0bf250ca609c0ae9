import { GatehouseError } from '../errors.ts';
import type { ConsoleRole } from '../model.ts';

/** Who acts in the console: an operator or auditor by email, or `cli` (a full operator). */
export interface ConsoleActor {
  name: string;
  role: ConsoleRole;
}

export const CLI_ACTOR: ConsoleActor = { name: 'cli', role: 'operator' };

/** Only operators change things; an auditor reads. Checked in the core, whatever the caller. */
export function mustChange(actor: ConsoleActor): void {
  if (actor.role !== 'operator') throw new GatehouseError('console_read_only');
}

export const MAX_REASON_LENGTH = 500;

/** The reason an operator typed for an action that asks for one: required, kept in the audit log. */
export function reasonOf(reason: string | undefined): string {
  const text = (reason ?? '').trim();
  if (text.length === 0 || text.length > MAX_REASON_LENGTH)
    throw new GatehouseError('console_reason_required');
  return text;
}
