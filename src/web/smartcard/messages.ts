import { type ErrorCode, GatehouseError } from '../../core/errors.ts';
import { messageFor } from '../messages.ts';

/** What people are told when their card is not accepted: what happened, and what to do. */
export function certificateMessage(code: ErrorCode): string {
  return messageFor(
    new GatehouseError(code),
    new Date(),
    'smartcard',
    'Your smartcard could not be used. Contact your IT service desk.',
  );
}
