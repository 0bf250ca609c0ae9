import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import type { GatehouseError } from '../../src/core/errors.ts';
import type { Account } from '../../src/core/model.ts';
import { integer, octets, readTlv, TAG, type Tlv, tlv } from '../../src/gateways/ldap/ber.ts';
import { matches } from '../../src/gateways/ldap/filter.ts';
import {
  entryOf,
  inScope,
  namedAddresses,
  readSearch,
  SEARCH_LIMITS,
  SearchTooComplex,
  selectAttributes,
} from '../../src/gateways/ldap/search.ts';

const BASE = 'ou=people,dc=example,dc=org';

// RFC 4511 filters, encoded as clients send them.
const eq = (attribute: string, value: string) =>
  tlv(0xa3, [octets(TAG.octetString, attribute), octets(TAG.octetString, value)]);
const and = (...parts: Buffer[]) => tlv(0xa0, parts);
const or = (...parts: Buffer[]) => tlv(0xa1, parts);
const not = (part: Buffer) => tlv(0xa2, [part]);
const present = (attribute: string) => octets(0x87, attribute);
const asTlv = (bytes: Buffer): Tlv => readTlv(bytes)!.tlv;

/** A SearchRequest's operation (application 3), as a client sends it. */
function searchOp(filter: Buffer, options: { base?: string; scope?: number; attributes?: string[] } = {}) {
  return asTlv(
    tlv(0x63, [
      octets(TAG.octetString, options.base ?? BASE),
      integer(TAG.enumerated, options.scope ?? 2),
      integer(TAG.enumerated, 0),
      integer(TAG.integer, 0),
      integer(TAG.integer, 0),
      tlv(TAG.boolean, Buffer.of(0)),
      filter,
      tlv(
        TAG.sequence,
        (options.attributes ?? []).map((a) => octets(TAG.octetString, a)),
      ),
    ]),
  );
}

describe('which entries a service account search names', () => {
  test("Dovecot's filter names one address by uid; mail works as uid does", () => {
    assert.deepEqual(
      namedAddresses(asTlv(and(eq('objectClass', 'inetOrgPerson'), eq('uid', 'Ann@Example.org')))),
      ['ann@example.org'],
    );
    assert.deepEqual(namedAddresses(asTlv(eq('mail', 'bob@example.org'))), ['bob@example.org']);
  });

  test('an or names the addresses of all its parts, only when each part names some', () => {
    assert.deepEqual(namedAddresses(asTlv(or(eq('uid', 'a@x.org'), eq('mail', 'b@x.org')))), [
      'a@x.org',
      'b@x.org',
    ]);
    assert.equal(namedAddresses(asTlv(or(eq('uid', 'a@x.org'), present('objectClass')))), null);
  });

  test('filters that could walk the directory name nothing', () => {
    for (const filter of [
      present('objectClass'),
      eq('cn', 'Ann'),
      not(eq('uid', 'a@x.org')),
      tlv(0xa4, [octets(TAG.octetString, 'uid'), tlv(TAG.sequence, [octets(0x80, 'a')])]),
    ])
      assert.equal(namedAddresses(asTlv(filter)), null);
  });

  test('an and of two different addresses names none', () => {
    assert.deepEqual(namedAddresses(asTlv(and(eq('uid', 'a@x.org'), eq('uid', 'b@x.org')))), []);
  });
});

describe('bounds on a search request', () => {
  test('a filter of more parts than the limit is refused', () => {
    const parts = Array.from({ length: SEARCH_LIMITS.filterNodes }, (_, i) => eq('uid', `u${i}@x.org`));
    assert.throws(() => readSearch(searchOp(or(...parts))), SearchTooComplex);
    assert.doesNotThrow(() => readSearch(searchOp(or(...parts.slice(0, SEARCH_LIMITS.filterNodes - 1)))));
  });

  test('a filter nested deeper than the limit is refused', () => {
    let deep = eq('uid', 'a@x.org');
    for (let i = 0; i < SEARCH_LIMITS.filterDepth; i++) deep = and(deep);
    assert.throws(() => readSearch(searchOp(deep)), /nested too deeply/);
  });

  test('a request larger than the limit, or asking for too many attributes, is refused', () => {
    const long = eq('uid', `${'a'.repeat(SEARCH_LIMITS.requestOctets)}@x.org`);
    assert.throws(() => readSearch(searchOp(long)), /too large/);
    const many = Array.from({ length: SEARCH_LIMITS.attributes + 1 }, (_, i) => `a${i}`);
    assert.throws(() => readSearch(searchOp(eq('uid', 'a@x.org'), { attributes: many })), /attributes/);
  });
});

describe('entries and scope', () => {
  const account: Account = {
    id: 'id-1',
    email: 'ann@example.org',
    displayName: 'Ann Other',
    passwordHash: null,
    sharedMailbox: false,
    mfaEnabled: true,
    mfaEnabledAt: new Date(0),
    createdAt: new Date(0),
    groups: ['mail-users', 'secure, care'],
  };
  const dn = `uid=ann@example.org,${BASE}`;

  test('the usual attributes, memberOf naming each group with its DN escaped', () => {
    const entry = entryOf(account, 'ou=groups,dc=example,dc=org');
    const sent = Object.fromEntries(selectAttributes(entry, []));
    assert.deepEqual(sent.memberOf, [
      'cn=mail-users,ou=groups,dc=example,dc=org',
      'cn=secure\\, care,ou=groups,dc=example,dc=org',
    ]);
    assert.deepEqual(Object.keys(sent), ['objectClass', 'uid', 'mail', 'cn', 'displayName', 'memberOf']);
    assert.deepEqual(selectAttributes(entry, ['mail']), [['mail', ['ann@example.org']]]);
    assert.ok(matches(asTlv(eq('memberOf', 'cn=mail-users,ou=groups,dc=example,dc=org')), entry));
  });

  test('base, one-level and subtree scopes', () => {
    const request = (base: string, scope: number) =>
      readSearch(searchOp(present('objectClass'), { base, scope }));
    assert.ok(inScope(request(dn, 0), dn, BASE));
    assert.ok(!inScope(request(BASE, 0), dn, BASE));
    assert.ok(inScope(request(BASE, 1), dn, BASE));
    assert.ok(inScope(request('dc=example,dc=org', 2), dn, BASE));
    assert.ok(!inScope(request('dc=example,dc=org', 1), dn, BASE));
    assert.ok(!inScope(request('ou=other,dc=example,dc=org', 2), dn, BASE));
  });
});

describe('the service account in the configuration', () => {
  const withFile = (ldap: unknown) => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
    writeFileSync(join(dir, 'gatehouse.config.json'), JSON.stringify({ ldap }));
    return dir;
  };
  const ldap = { baseDn: BASE, serviceAccount: { dn: 'cn=dovecot,ou=services,dc=example,dc=org' } };
  const invalid = (message: string) => (e: GatehouseError) =>
    e.code === 'config_invalid' && e.message.includes(message);

  test('its password comes from GATEHOUSE_LDAP_SERVICE_PASSWORD, with the limits defaulted', () => {
    const config = loadConfig(
      { GATEHOUSE_LDAP_SERVICE_PASSWORD: 'a-long-random-service-secret' },
      withFile(ldap),
    );
    assert.equal(config.ldap?.serviceAccount?.password, 'a-long-random-service-secret');
    assert.equal(config.ldap?.serviceAccount?.searchesPerMinute, 1200);
    assert.equal(config.ldap?.serviceAccount?.sizeLimit, 10);
  });

  test('without the variable, with the password in the file, or a short one: refused, in words', () => {
    assert.throws(
      () => loadConfig({}, withFile(ldap)),
      invalid('needs its password in GATEHOUSE_LDAP_SERVICE_PASSWORD'),
    );
    const inFile = {
      ...ldap,
      serviceAccount: { ...ldap.serviceAccount, password: 'a-long-random-service-secret' },
    };
    assert.throws(() => loadConfig({}, withFile(inFile)), invalid('not in the file'));
    assert.throws(
      () => loadConfig({ GATEHOUSE_LDAP_SERVICE_PASSWORD: 'short' }, withFile(ldap)),
      invalid('at least 16 characters'),
    );
    assert.throws(
      () =>
        loadConfig(
          { GATEHOUSE_LDAP_SERVICE_PASSWORD: 'a-long-random-service-secret' },
          withFile({ baseDn: BASE }),
        ),
      invalid('ldap has no serviceAccount'),
    );
  });
});
