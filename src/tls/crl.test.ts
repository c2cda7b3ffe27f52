import assert from 'node:assert/strict';
import { webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { checkRevoked, prepareCrlParser, readRevokedSerials } from './crl.js';
import { generateSelfSigned } from './self-signed.js';

/** A CRL listing `serials` (hex), DER; etcd reads serials only, so any signing key will do. */
async function makeCrl(serials: string[]): Promise<Buffer> {
  type DomCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
  type DomKey = Parameters<InstanceType<typeof pkijs.CertificateRevocationList>['sign']>[0];
  const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as DomCrypto });
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ]);
  const crl = new pkijs.CertificateRevocationList();
  crl.version = 1;
  crl.issuer.typesAndValues.push(
    new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: 'test CA' }) }),
  );
  crl.thisUpdate = new pkijs.Time({ type: 0, value: new Date() });
  crl.revokedCertificates = serials.map(
    (hex) =>
      new pkijs.RevokedCertificate({
        userCertificate: new asn1js.Integer({ valueHex: Uint8Array.from(Buffer.from(hex, 'hex')).buffer }),
        revocationDate: new pkijs.Time({ type: 0, value: new Date() }),
      }),
  );
  await crl.sign(keys.privateKey as unknown as DomKey, 'SHA-256', engine);
  return Buffer.from(crl.toSchema(true).toBER(false));
}

let dir: string;
let revoked: X509Certificate;
let fine: X509Certificate;

before(async () => {
  await prepareCrlParser();
  dir = mkdtempSync(join(tmpdir(), 'etcd-ts-crl-'));
  revoked = new X509Certificate((await generateSelfSigned(['127.0.0.1'])).certPem);
  fine = new X509Certificate((await generateSelfSigned(['127.0.0.1'])).certPem);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('serials listed in a DER or PEM CRL are refused with etcd text', async () => {
  const der = await makeCrl(['0102', revoked.serialNumber]);
  writeFileSync(join(dir, 'crl.der'), der);
  const pem = `-----BEGIN X509 CRL-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END X509 CRL-----\n`;
  writeFileSync(join(dir, 'crl.pem'), pem);
  for (const file of ['crl.der', 'crl.pem']) {
    const serials = readRevokedSerials(join(dir, file));
    assert.equal(serials.size, 2);
    assert.equal(
      checkRevoked([revoked], serials),
      `transport: certificate serial ${revoked.serialNumber.toLowerCase()} revoked`,
    );
    assert.equal(checkRevoked([fine], serials), undefined);
  }
});

test('a missing CRL file is an error, as in etcd', () => {
  assert.throws(() => readRevokedSerials(join(dir, 'nope.crl')), /no such file or directory/);
});
