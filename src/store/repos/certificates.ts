import type { Kysely, Selectable } from 'kysely';
import { GatehouseError } from '../../core/errors.ts';
import type { CertificateBinding, CertificateTicket, CertificateTicketPurpose } from '../../core/model.ts';
import type { CertificateBindingStore, CertificateTicketStore } from '../../core/store.ts';
import type { Engine } from '../engine.ts';
import type { CertificateBindingsTable, CertificateTicketsTable, Database } from '../schema.ts';
import { fromMillis, optionalDate, toMillis } from './time.ts';

export function certificateBindingRepo(db: Kysely<Database>, engine: Engine): CertificateBindingStore {
  return {
    async insert(b) {
      try {
        await db
          .insertInto('certificate_bindings')
          .values({
            id: b.id,
            account_id: b.accountId,
            issuer: b.issuer,
            serial: b.serial,
            subject: b.subject,
            fingerprint: b.fingerprint,
            not_after: toMillis(b.notAfter),
            created_at: toMillis(b.createdAt),
            last_used_at: null,
          })
          .execute();
      } catch (error) {
        if (engine.isUniqueViolation(error)) throw new GatehouseError('certificate_already_bound');
        throw error;
      }
    },
    async findByIssuerSerial(issuer, serial) {
      const row = await db
        .selectFrom('certificate_bindings')
        .selectAll()
        .where('issuer', '=', issuer)
        .where('serial', '=', serial)
        .executeTakeFirst();
      return row && toBinding(row);
    },
    async listForAccount(accountId) {
      const rows = await db
        .selectFrom('certificate_bindings')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('created_at')
        .execute();
      return rows.map(toBinding);
    },
    async remove(accountId, id) {
      const result = await db
        .deleteFrom('certificate_bindings')
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async recordUse(id, at) {
      await db
        .updateTable('certificate_bindings')
        .set({ last_used_at: toMillis(at) })
        .where('id', '=', id)
        .execute();
    },
  };
}

export function certificateTicketRepo(db: Kysely<Database>): CertificateTicketStore {
  return {
    async insert(t) {
      await db
        .insertInto('certificate_tickets')
        .values({
          id_hash: t.idHash,
          purpose: t.purpose,
          state_hash: t.stateHash,
          account_id: t.accountId,
          certificate: t.certificate,
          created_at: toMillis(t.createdAt),
          expires_at: toMillis(t.expiresAt),
        })
        .execute();
    },
    async take(idHash, now) {
      // Deleted whether or not it has expired: an expired ticket is of no more use than a used one.
      const row = await db
        .deleteFrom('certificate_tickets')
        .where('id_hash', '=', idHash)
        .returningAll()
        .executeTakeFirst();
      if (!row || Number(row.expires_at) <= toMillis(now)) return undefined;
      return toTicket(row);
    },
    async removeExpired(now) {
      const result = await db
        .deleteFrom('certificate_tickets')
        .where('expires_at', '<=', toMillis(now))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

function toBinding(row: Selectable<CertificateBindingsTable>): CertificateBinding {
  return {
    id: row.id,
    accountId: row.account_id,
    issuer: row.issuer,
    serial: row.serial,
    subject: row.subject,
    fingerprint: row.fingerprint,
    notAfter: fromMillis(row.not_after),
    createdAt: fromMillis(row.created_at),
    lastUsedAt: optionalDate(row.last_used_at),
  };
}

function toTicket(row: Selectable<CertificateTicketsTable>): CertificateTicket {
  return {
    idHash: row.id_hash,
    purpose: row.purpose as CertificateTicketPurpose,
    stateHash: row.state_hash,
    accountId: row.account_id,
    certificate: row.certificate,
    createdAt: fromMillis(row.created_at),
    expiresAt: fromMillis(row.expires_at),
  };
}
