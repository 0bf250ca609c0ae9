import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock, Random } from '../../clock.ts';
import { GatehouseError } from '../../errors.ts';
import type { CertificateTicket, CertificateTicketPurpose } from '../../model.ts';
import type { Store } from '../../store.ts';
import type { CertificateSummary } from './certificate.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * The hand-over from the certificate endpoint (its own port or host) to the portal. The portal
 * gives the browser a random state in a cookie and sends it to the endpoint; the endpoint checks
 * the card and issues a ticket bound to that state. The portal accepts the ticket once, before it
 * expires, and only with the cookie: a ticket sent to someone else's browser (login CSRF) is useless.
 */
export function certificateTickets(deps: { store: Store; clock: Clock; random: Random }, seconds: number) {
  return {
    newState: () => deps.random.bytes(32).toString('base64url'),

    async issue(
      purpose: CertificateTicketPurpose,
      state: string,
      certificate: CertificateSummary,
      accountId: string | null,
    ): Promise<string> {
      const ticket = deps.random.bytes(32).toString('base64url');
      const now = deps.clock.now();
      await deps.store.certificateTickets.insert({
        idHash: sha256(ticket).toString('base64url'),
        purpose,
        stateHash: sha256(state).toString('base64url'),
        accountId,
        certificate: JSON.stringify(certificate),
        createdAt: now,
        expiresAt: new Date(now.getTime() + seconds * 1000),
      });
      return ticket;
    },

    /** The ticket's contents, once; throws `certificate_ticket_invalid` for anything else. */
    async redeem(
      purpose: CertificateTicketPurpose,
      ticket: string,
      state: string,
    ): Promise<{ ticket: CertificateTicket; certificate: CertificateSummary }> {
      const taken = await deps.store.certificateTickets.take(
        sha256(ticket).toString('base64url'),
        deps.clock.now(),
      );
      const expected = Buffer.from(taken?.stateHash ?? '', 'base64url');
      const given = sha256(state);
      const stateMatches = expected.length === given.length && timingSafeEqual(expected, given);
      if (!taken || taken.purpose !== purpose || !stateMatches)
        throw new GatehouseError('certificate_ticket_invalid', undefined, {
          reason: !taken
            ? 'unknown_or_expired'
            : taken.purpose !== purpose
              ? 'wrong_purpose'
              : 'wrong_browser',
        });
      return { ticket: taken, certificate: JSON.parse(taken.certificate) as CertificateSummary };
    },
  };
}
