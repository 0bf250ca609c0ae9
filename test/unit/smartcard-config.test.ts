import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import type { GatehouseError } from '../../src/core/errors.ts';

function withSmartcard(smartcard: unknown) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
  writeFileSync(join(dir, 'gatehouse.config.json'), JSON.stringify({ smartcard }));
  return () => loadConfig({}, dir);
}

const refusedWith = (text: string) => (e: GatehouseError) =>
  e.code === 'config_invalid' && e.message.includes(text);

test('smartcard settings: defaults filled in, revocation required, all three mapping rules in order', () => {
  const config = withSmartcard({
    trustedCaFile: '/etc/gatehouse/card-cas.pem',
    crlUrls: ['http://crl.example.org/care.crl'],
    tlsCertFile: 'endpoint.crt',
    tlsKeyFile: 'endpoint.key',
  })();
  assert.equal(config.smartcard?.port, 8443);
  assert.equal(config.smartcard?.revocationRequired, true);
  assert.equal(config.smartcard?.ocsp, false);
  assert.equal(config.smartcard?.crlRefreshMinutes, 60);
  assert.deepEqual(config.smartcard?.mapping, ['bound', 'email', 'upn']);
  assert.equal(config.smartcard?.certificateHeader, 'X-SSL-Client-Cert');
});

test('smartcard settings that cannot work are refused in words', () => {
  const base = { trustedCaFile: 'cas.pem', crlFiles: ['care.crl'] };
  assert.throws(
    withSmartcard({ ...base }),
    refusedWith('give tlsCertFile and tlsKeyFile, or trustedProxies'),
  );
  assert.throws(
    withSmartcard({ ...base, tlsCertFile: 'a.crt' }),
    refusedWith('give both tlsCertFile and tlsKeyFile'),
  );
  assert.throws(
    withSmartcard({ trustedCaFile: 'cas.pem', trustedProxies: ['10.0.0.5'] }),
    refusedWith('revocationRequired to false'),
  );
  assert.throws(
    withSmartcard({ ...base, trustedProxies: ['10.0.0.5'], mapping: ['serial'] }),
    refusedWith('mapping'),
  );
  assert.throws(
    withSmartcard({ ...base, trustedProxies: ['10.0.0.5'], certificateHeader: 'X Bad: header' }),
    refusedWith('certificateHeader'),
  );
  assert.throws(
    withSmartcard({ ...base, trustedProxies: ['10.0.0.5'], publicUrl: 'http://cards.example.org' }),
    refusedWith('publicUrl'),
  );
  assert.throws(
    withSmartcard({ ...base, trustedProxies: ['10.0.0.5'], ticketSeconds: 3600 }),
    refusedWith('ticketSeconds'),
  );
  assert.throws(
    withSmartcard({ ...base, trustedProxies: ['10.0.0.5'], crlUrl: 'typo' }),
    refusedWith('crlUrl'),
  );
  // OCSP alone may settle revocation, once the operator allows it.
  const ocspOnly = withSmartcard({ trustedCaFile: 'cas.pem', trustedProxies: ['10.0.0.5'], ocsp: true })();
  assert.equal(ocspOnly.smartcard?.ocsp, true);
  assert.equal(ocspOnly.smartcard?.ocspTimeoutSeconds, 5);
  // Behind a proxy with revocation checked elsewhere, the operator says so explicitly.
  const proxied = withSmartcard({
    trustedCaFile: 'cas.pem',
    trustedProxies: ['10.0.0.5'],
    revocationRequired: false,
  })();
  assert.deepEqual(proxied.smartcard?.trustedProxies, ['10.0.0.5']);
});
