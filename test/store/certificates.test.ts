import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { CertificateBinding, CertificateTicket } from '../../src/core/model.ts';
import type { Store } from '../../src/core/store.ts';
import { ENGINES, postgresUnavailable, type TestDatabase, testDatabase } from '../helpers/engines.ts';

const at = (iso: string) => new Date(iso);

// Smartcard bindings and hand-over tickets, run unchanged on each engine.
for (const engine of ENGINES) {
  describe(`certificate store on ${engine}`, async () => {
    const skip = engine === 'postgres' ? await postgresUnavailable() : null;
    let database: TestDatabase;
    let store: Store;
    let accountId: string;
    let otherId: string;

    before(async () => {
      if (skip) return;
      database = testDatabase(engine);
      store = await database.open();
      for (const email of ['card@example.org', 'other@example.org']) {
        const id = randomUUID();
        await store.accounts.insert({
          id,
          email,
          displayName: email,
          passwordHash: '$argon2id$placeholder',
          sharedMailbox: false,
          createdAt: at('2026-01-01T00:00:00Z'),
          groups: [],
        });
        if (email.startsWith('card')) accountId = id;
        else otherId = id;
      }
    });
    after(async () => {
      if (skip) return;
      await store.close();
      await database.drop();
    });

    const binding = (id: string, account: string, serial: string): CertificateBinding => ({
      id,
      accountId: account,
      issuer: 'CN=Test Care Identity CA, O=Gatehouse Tests',
      serial,
      subject: 'CN=Alice Smartcard',
      fingerprint: 'AB:CD',
      notAfter: at('2027-01-01T00:00:00Z'),
      createdAt: at('2026-06-01T00:00:00Z'),
      lastUsedAt: null,
    });

    test('binds a certificate by issuer and serial, once across all accounts', {
      skip: skip ?? false,
    }, async () => {
      await store.certificateBindings.insert(binding('b1', accountId, '1A2B'));
      const found = await store.certificateBindings.findByIssuerSerial(
        'CN=Test Care Identity CA, O=Gatehouse Tests',
        '1A2B',
      );
      assert.equal(found?.accountId, accountId);
      assert.equal(found?.notAfter.toISOString(), '2027-01-01T00:00:00.000Z');
      await assert.rejects(store.certificateBindings.insert(binding('b2', otherId, '1A2B')), {
        code: 'certificate_already_bound',
      });
      assert.equal(await store.certificateBindings.findByIssuerSerial('CN=Another CA', '1A2B'), undefined);
      await store.certificateBindings.recordUse('b1', at('2026-07-01T00:00:00Z'));
      const [listed] = await store.certificateBindings.listForAccount(accountId);
      assert.equal(listed?.lastUsedAt?.toISOString(), '2026-07-01T00:00:00.000Z');
      // Only the owner's removal counts.
      assert.equal(await store.certificateBindings.remove(otherId, 'b1'), false);
      assert.equal(await store.certificateBindings.remove(accountId, 'b1'), true);
      assert.deepEqual(await store.certificateBindings.listForAccount(accountId), []);
    });

    const ticket = (idHash: string, expiresAt: string): CertificateTicket => ({
      idHash,
      purpose: 'sign_in',
      stateHash: 'state-hash',
      accountId,
      certificate: '{}',
      createdAt: at('2026-06-01T00:00:00Z'),
      expiresAt: at(expiresAt),
    });

    test('a ticket is taken once, even by concurrent takers; an expired one is never returned', {
      skip: skip ?? false,
    }, async () => {
      const now = at('2026-06-01T00:01:00Z');
      await store.certificateTickets.insert(ticket('t1', '2026-06-01T00:02:00Z'));
      const takes = await Promise.all(
        Array.from({ length: 8 }, () => store.certificateTickets.take('t1', now)),
      );
      assert.equal(takes.filter((t) => t !== undefined).length, 1);
      assert.equal(takes.find((t) => t)?.accountId, accountId);
      await store.certificateTickets.insert(ticket('t2', '2026-06-01T00:00:30Z'));
      assert.equal(await store.certificateTickets.take('t2', now), undefined);
      await store.certificateTickets.insert(ticket('t3', '2026-06-01T00:00:30Z'));
      await store.certificateTickets.insert(ticket('t4', '2026-06-01T00:05:00Z'));
      assert.equal(await store.certificateTickets.removeExpired(now), 1);
      assert.equal((await store.certificateTickets.take('t4', now))?.idHash, 't4');
    });
  });
}
