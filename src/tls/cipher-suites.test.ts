import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getCiphers } from 'node:tls';
import { resolveCipherSuites, TLS13_SUITES } from './cipher-suites.js';
import { TlsSetupError } from './errors.js';

const TLS13 = TLS13_SUITES.join(':');

test('no flag: Node defaults', () => {
  assert.deepEqual(resolveCipherSuites([]), { ciphers: undefined, unavailable: [] });
});

test('Go names map to OpenSSL names, TLS 1.3 suites always kept', () => {
  const r = resolveCipherSuites([
    'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
    'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
    'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305',
    'TLS_RSA_WITH_AES_128_CBC_SHA256',
  ]);
  assert.equal(
    r.ciphers,
    `ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:AES128-SHA256:${TLS13}`,
  );
  assert.deepEqual(r.unavailable, []);
});

test('the CHACHA20 alias and the full name collapse to one entry', () => {
  const r = resolveCipherSuites([
    'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
    'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  ]);
  assert.equal(r.ciphers, `ECDHE-ECDSA-CHACHA20-POLY1305:${TLS13}`);
});

test('TLS 1.3 names are accepted and change nothing', () => {
  assert.equal(resolveCipherSuites(['TLS_AES_128_GCM_SHA256']).ciphers, TLS13);
});

test('names Go accepts but OpenSSL 3 lacks are reported, not fatal', () => {
  const r = resolveCipherSuites([
    'TLS_RSA_WITH_RC4_128_SHA',
    'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA',
    'TLS_RSA_WITH_AES_128_CBC_SHA',
  ]);
  assert.deepEqual(r.unavailable, ['TLS_RSA_WITH_RC4_128_SHA', 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA']);
  assert.equal(r.ciphers, `AES128-SHA:${TLS13}`);
});

test('an unknown name fails with etcd text', () => {
  assert.throws(
    () => resolveCipherSuites(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256']),
    (e: unknown) =>
      e instanceof TlsSetupError && e.message === 'unexpected TLS cipher suite "ECDHE-RSA-AES128-GCM-SHA256"',
  );
  assert.throws(() => resolveCipherSuites(['tls_ecdhe_rsa_with_aes_128_gcm_sha256']), TlsSetupError);
});

test('every mapped OpenSSL name exists in this Node', () => {
  const known = new Set(getCiphers().map((c) => c.toUpperCase()));
  const all = [
    'TLS_RSA_WITH_AES_128_CBC_SHA',
    'TLS_RSA_WITH_AES_256_CBC_SHA',
    'TLS_RSA_WITH_AES_128_GCM_SHA256',
    'TLS_RSA_WITH_AES_256_GCM_SHA384',
    'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
    'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
    'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
    'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
    'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
    'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
    'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
    'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
    'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
    'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256',
    'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
    'TLS_RSA_WITH_AES_128_CBC_SHA256',
  ];
  const r = resolveCipherSuites(all);
  assert.deepEqual(r.unavailable, []);
  for (const name of (r.ciphers ?? '').split(':')) assert.ok(known.has(name.toUpperCase()), name);
});
