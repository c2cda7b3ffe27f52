import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { TlsSetupError } from './errors.js';
import { loadCaBundle, parseKeyPair, readTlsFile } from './pem.js';
import { generateSelfSigned } from './self-signed.js';

let a: { certPem: string; keyPem: string };
let b: { certPem: string; keyPem: string };
before(async () => {
  a = await generateSelfSigned(['127.0.0.1']);
  b = await generateSelfSigned(['127.0.0.1']);
});

function fails(cert: string, key: string, message: string): void {
  assert.throws(
    () => parseKeyPair(Buffer.from(cert), Buffer.from(key)),
    (e: unknown) => e instanceof TlsSetupError && e.message === message,
  );
}

test('a matching pair parses', () => {
  const pair = parseKeyPair(Buffer.from(a.certPem), Buffer.from(a.keyPem));
  assert.match(pair.leaf.subject, /O=etcd/);
});

test('pair mistakes are reported with Go tls.X509KeyPair text', () => {
  fails('garbage', a.keyPem, 'tls: failed to find any PEM data in certificate input');
  fails(
    a.keyPem,
    a.certPem,
    'tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched',
  );
  fails(a.certPem, 'garbage', 'tls: failed to find any PEM data in key input');
  fails(a.certPem, a.certPem, 'tls: found a certificate rather than a key in the PEM for the private key');
  fails(a.certPem, b.keyPem, 'tls: private key does not match public key');
  fails(
    a.certPem,
    '-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n',
    'tls: failed to parse private key',
  );
});

test('CA bundles: each block a certificate; no PEM at all is an empty pool; missing file is Go open error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'etcd-ts-pem-'));
  try {
    writeFileSync(join(dir, 'two.pem'), a.certPem + b.certPem);
    assert.equal(loadCaBundle(join(dir, 'two.pem')).length, 2);
    writeFileSync(join(dir, 'empty.pem'), 'not pem');
    assert.deepEqual(loadCaBundle(join(dir, 'empty.pem')), []);
    writeFileSync(join(dir, 'bad.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    assert.throws(() => loadCaBundle(join(dir, 'bad.pem')), { message: 'x509: malformed certificate' });
    assert.throws(() => readTlsFile(join(dir, 'nope.pem')), {
      message: `open ${join(dir, 'nope.pem')}: no such file or directory`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
