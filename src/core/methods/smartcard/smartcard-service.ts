import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Clock, Random } from '../../clock.ts';
import { type ErrorCode, GatehouseError, isGatehouseError } from '../../errors.ts';
import type { Account, CertificateBinding, CertificateTicketPurpose } from '../../model.ts';
import type { Store } from '../../store.ts';
import type { CertificateSummary } from './certificate.ts';
import { toPem } from './pem.ts';
import { SMARTCARD_FACTORS, type SmartcardSettings } from './settings.ts';
import { certificateTickets } from './tickets.ts';
import type { CertificateProblem, CertificateTrust } from './trust.ts';

export interface SmartcardDeps {
  store: Store;
  clock: Clock;
  random: Random;
  audit: AuditLog;
  settings: SmartcardSettings;
  /** The trusted CAs and revocation lists; undefined when smartcard sign-in is not configured. */
  trust: CertificateTrust | undefined;
}

const problemCodes: Record<CertificateProblem, ErrorCode> = {
  missing: 'certificate_missing',
  invalid: 'certificate_invalid',
  untrusted: 'certificate_untrusted',
  expired: 'certificate_expired',
  not_yet_valid: 'certificate_not_yet_valid',
  wrong_usage: 'certificate_wrong_usage',
  revoked: 'certificate_revoked',
  revocation_unknown: 'certificate_revocation_unknown',
};

/** What the audit log keeps of a certificate: enough to find it, nothing secret. */
const auditedCertificate = (c: CertificateSummary | undefined) =>
  c && { subject: c.subject, issuer: c.issuer, serial: c.serial, fingerprint: c.fingerprint };

export type SmartcardMethod = ReturnType<typeof smartcardMethod>;

/** Smartcard sign-in and card binding; the TLS and the pages are the web layer's. */
export function smartcardMethod(deps: SmartcardDeps) {
  const { store, clock, audit, settings } = deps;
  const tickets = certificateTickets(deps, settings.ticketSeconds);

  function trust(): CertificateTrust {
    if (!deps.trust) throw new GatehouseError('certificate_missing', 'smartcard sign-in is not configured');
    return deps.trust;
  }

  /** The checked certificate, or an audited refusal with the problem's code. */
  async function checked(chain: Uint8Array[], clientAddress: string | null, purpose: string) {
    const result = await trust().check(chain, clock.now());
    if (result.ok) return result.certificate;
    await audit.record({
      type: 'smartcard.refused',
      clientAddress,
      detail: {
        purpose,
        reason: result.problem,
        why: result.detail,
        certificate: auditedCertificate(result.certificate),
      },
    });
    throw new GatehouseError(problemCodes[result.problem], undefined, { problem: result.problem });
  }

  /** The account a certificate maps to under the configured rules; undefined when none (or several). */
  async function accountFor(
    certificate: CertificateSummary,
  ): Promise<{ account: Account; binding?: CertificateBinding } | undefined> {
    for (const rule of settings.mapping) {
      if (rule === 'bound') {
        const binding = await store.certificateBindings.findByIssuerSerial(
          certificate.issuer,
          certificate.serial,
        );
        const account = binding && (await store.accounts.findById(binding.accountId));
        if (account && binding) return { account, binding };
        continue;
      }
      const names = rule === 'email' ? certificate.emails : certificate.upns;
      const accounts = new Map<string, Account>();
      for (const name of names) {
        const account = await store.accounts.findByEmail(name);
        if (account) accounts.set(account.id, account);
      }
      // A card naming two different accounts proves neither.
      if (accounts.size === 1) return { account: [...accounts.values()][0] as Account };
    }
    return undefined;
  }

  return {
    /** Whether cards can be checked at all (the trusted CAs are configured). */
    configured: deps.trust !== undefined,
    newState: tickets.newState,

    /** The CAs cards must chain to, as PEM: the TLS endpoint names them to browsers. */
    trustedCaPem: () => trust().anchorCertificates.map((der) => toPem(der)),

    /**
     * At the certificate endpoint: checks the card the TLS handshake (or a trusted proxy) presented
     * and returns a one-time ticket for the portal, with what the page may show of the card.
     */
    async present(input: {
      chain: Uint8Array[];
      purpose: CertificateTicketPurpose;
      state: string;
      clientAddress: string;
    }): Promise<{ ticket: string; certificate: CertificateSummary; account?: Account }> {
      const certificate = await checked(input.chain, input.clientAddress, input.purpose);
      if (input.purpose === 'bind') {
        const existing = await store.certificateBindings.findByIssuerSerial(
          certificate.issuer,
          certificate.serial,
        );
        if (existing) throw new GatehouseError('certificate_already_bound');
        return { ticket: await tickets.issue('bind', input.state, certificate, null), certificate };
      }
      const mapped = await accountFor(certificate);
      if (!mapped || mapped.account.sharedMailbox) {
        await audit.record({
          type: 'smartcard.refused',
          email: mapped?.account.email ?? null,
          clientAddress: input.clientAddress,
          detail: {
            purpose: input.purpose,
            reason: mapped ? 'shared_mailbox' : 'not_mapped',
            certificate: auditedCertificate(certificate),
          },
        });
        throw new GatehouseError('certificate_not_mapped');
      }
      const ticket = await tickets.issue(input.purpose, input.state, certificate, mapped.account.id);
      return { ticket, certificate, account: mapped.account };
    },

    /**
     * A forgotten password's proof: the account the card checked at the endpoint maps to, once
     * (the card is both factors: possession, and the PIN that unlocked it). The reset audits it.
     */
    async redeemForReset(input: { ticket: string; state: string; clientAddress: string }) {
      const { ticket, certificate } = await redeemed('reset', input.ticket, input.state, input.clientAddress);
      return { accountId: ticket.accountId, certificate: auditedCertificate(certificate) };
    },

    /**
     * On the portal: the ticket's account, once (the card is both factors). The sign-in flow then
     * opens the session.
     */
    async redeemSignIn(input: { ticket: string; state: string; clientAddress: string }): Promise<Account> {
      const { ticket, certificate } = await redeemed(
        'sign_in',
        input.ticket,
        input.state,
        input.clientAddress,
      );
      const account = ticket.accountId ? await store.accounts.findById(ticket.accountId) : undefined;
      // A disabled account signs in nowhere, with a card neither.
      if (!account || account.disabledAt) throw new GatehouseError('certificate_ticket_invalid');
      const binding = await store.certificateBindings.findByIssuerSerial(
        certificate.issuer,
        certificate.serial,
      );
      if (binding?.accountId === account.id)
        await store.certificateBindings.recordUse(binding.id, clock.now());
      await audit.record({
        type: 'smartcard.signed_in',
        email: account.email,
        clientAddress: input.clientAddress,
        detail: {
          factors: SMARTCARD_FACTORS,
          twoFactors: 'possession of the smartcard and knowledge of its PIN',
          certificate: auditedCertificate(certificate),
        },
      });
      return account;
    },

    /** On the portal, signed in: binds the card checked at the endpoint to this account. */
    async bindPresented(
      account: Account,
      input: { ticket: string; state: string; clientAddress: string },
    ): Promise<CertificateBinding> {
      const { certificate } = await redeemed('bind', input.ticket, input.state, input.clientAddress);
      return bindCertificate(account, certificate, account.email, input.clientAddress);
    },

    /** An operator binds a certificate file (the CLI); it must pass the same checks as a card. */
    async bind(account: Account, chain: Uint8Array[], actor: string): Promise<CertificateBinding> {
      const certificate = await checked(chain, null, 'bind');
      return bindCertificate(account, certificate, actor, null);
    },

    bindings: (accountId: string) => store.certificateBindings.listForAccount(accountId),

    async remove(account: Account, id: string, actor: string, clientAddress: string | null): Promise<void> {
      const bindings = await store.certificateBindings.listForAccount(account.id);
      const binding = bindings.find((b) => b.id === id);
      if (!binding || !(await store.certificateBindings.remove(account.id, id)))
        throw new GatehouseError('certificate_binding_not_found');
      await audit.record({
        type: 'smartcard.removed',
        email: account.email,
        actor,
        clientAddress,
        detail: { subject: binding.subject, issuer: binding.issuer, serial: binding.serial },
      });
    },

    /** A certificate header from an address that is not a trusted proxy: ignored, and the log says so. */
    async headerIgnored(clientAddress: string, header: string): Promise<void> {
      await audit.record({ type: 'smartcard.header_ignored', clientAddress, detail: { header } });
    },
  };

  async function redeemed(
    purpose: CertificateTicketPurpose,
    ticket: string,
    state: string,
    clientAddress: string,
  ) {
    try {
      return await tickets.redeem(purpose, ticket, state);
    } catch (error) {
      if (isGatehouseError(error))
        await audit.record({
          type: 'smartcard.refused',
          clientAddress,
          detail: { purpose, reason: 'ticket', why: error.details.reason },
        });
      throw error;
    }
  }

  async function bindCertificate(
    account: Account,
    certificate: CertificateSummary,
    actor: string,
    clientAddress: string | null,
  ): Promise<CertificateBinding> {
    const binding: CertificateBinding = {
      // A UUID like every other record's: never starting with '-', which a command line reads as an option.
      id: randomUUID(),
      accountId: account.id,
      issuer: certificate.issuer,
      serial: certificate.serial,
      subject: certificate.subject,
      fingerprint: certificate.fingerprint,
      notAfter: new Date(certificate.notAfter),
      createdAt: clock.now(),
      lastUsedAt: null,
    };
    await store.certificateBindings.insert(binding);
    await audit.record({
      type: 'smartcard.bound',
      email: account.email,
      actor,
      clientAddress,
      detail: { certificate: auditedCertificate(certificate) },
    });
    return binding;
  }
}
