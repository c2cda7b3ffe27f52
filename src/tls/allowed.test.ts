import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, test } from 'node:test';
import {
  certificateValidForHost,
  checkAllowedRules,
  commonName,
  NOT_ALLOWED,
  subjectAltNames,
  verifyAllowed,
} from './allowed.js';
import { checkClientSan, type SanResolver } from './client-san.js';
import { TlsSetupError } from './errors.js';
import { generateSelfSigned } from './self-signed.js';

async function certFor(hosts: string[], commonName?: string): Promise<X509Certificate> {
  const { certPem } = await generateSelfSigned(hosts, commonName === undefined ? {} : { commonName });
  return new X509Certificate(certPem);
}

describe('allowed CN / hostname rules', () => {
  let member: X509Certificate;
  let noSan: X509Certificate;

  before(async () => {
    member = await certFor(
      ['127.0.0.1:2380', 'node1.example.com:2380', '*.wild.example.com', '[::1]:2380'],
      'member1',
    );
    noSan = await certFor([], 'bare');
  });

  test('the certificate carries what the generator was asked for', () => {
    assert.equal(commonName(member), 'member1');
    assert.deepEqual(subjectAltNames(member).dns, ['node1.example.com', '*.wild.example.com']);
    assert.equal(subjectAltNames(member).ips.length, 2);
  });

  test('no rules: everything passes, even no certificate', () => {
    const none = { allowedCn: '', allowedHostname: '' };
    assert.equal(verifyAllowed(member, none), undefined);
    assert.equal(verifyAllowed(undefined, none), undefined);
  });

  test('CN must match exactly', () => {
    assert.equal(verifyAllowed(member, { allowedCn: 'member1', allowedHostname: '' }), undefined);
    assert.equal(verifyAllowed(member, { allowedCn: 'Member1', allowedHostname: '' }), NOT_ALLOWED);
    assert.equal(verifyAllowed(member, { allowedCn: 'member', allowedHostname: '' }), NOT_ALLOWED);
    assert.equal(verifyAllowed(undefined, { allowedCn: 'member1', allowedHostname: '' }), NOT_ALLOWED);
  });

  test('hostname follows Go VerifyHostname: IPs against IP SANs, names against DNS SANs', () => {
    const ok = (h: string) => verifyAllowed(member, { allowedCn: '', allowedHostname: h });
    assert.equal(ok('127.0.0.1'), undefined);
    assert.equal(ok('::1'), undefined);
    assert.equal(ok('[::1]'), undefined);
    assert.equal(ok('127.0.0.2'), NOT_ALLOWED);
    assert.equal(ok('node1.example.com'), undefined);
    assert.equal(ok('NODE1.Example.COM.'), undefined, 'case and a trailing dot do not matter');
    assert.equal(ok('a.wild.example.com'), undefined);
    assert.equal(ok('b.a.wild.example.com'), NOT_ALLOWED, 'a wildcard covers one label');
    assert.equal(ok('wild.example.com'), NOT_ALLOWED);
    assert.equal(ok('member1'), NOT_ALLOWED, 'the CN is never used as a host name');
  });

  test('a certificate without SANs is valid for no host', () => {
    assert.equal(certificateValidForHost(noSan, 'bare'), false);
    assert.equal(certificateValidForHost(noSan, '127.0.0.1'), false);
  });

  test('CN and hostname together are refused with etcd text', () => {
    assert.throws(
      () => checkAllowedRules({ allowedCn: 'a', allowedHostname: 'b' }),
      (e: unknown) =>
        e instanceof TlsSetupError &&
        e.message === 'AllowedCN and AllowedHostname are mutually exclusive (cn="a", hostname="b")',
    );
    checkAllowedRules({ allowedCn: 'a', allowedHostname: '' });
  });
});

describe('peer client SAN check', () => {
  const resolver = (reverse: Record<string, string[]>, forward: Record<string, string[]>): SanResolver => ({
    reverse: async (ip) => {
      const names = reverse[ip];
      if (names === undefined) throw new Error(`lookup ${ip}: no such host`);
      return names;
    },
    lookup: async (name) => {
      const ips = forward[name];
      if (ips === undefined) throw new Error(`lookup ${name}: no such host`);
      return ips;
    },
  });

  test('IP SAN equal to the remote address passes; another fails with Go text', async () => {
    const cert = await certFor(['10.0.0.1:2380']);
    assert.equal(await checkClientSan(cert, '10.0.0.1', resolver({}, {})), undefined);
    assert.equal(
      await checkClientSan(cert, '10.0.0.2', resolver({}, {})),
      'x509: certificate is valid for 10.0.0.1, not 10.0.0.2',
    );
  });

  test('DNS SANs pass by reverse or forward lookup', async () => {
    const cert = await certFor(['m1.cluster.local:2380', '*.pods.local:2380']);
    assert.equal(
      await checkClientSan(cert, '10.0.0.5', resolver({}, { 'm1.cluster.local': ['10.0.0.5'] })),
      undefined,
    );
    assert.equal(
      await checkClientSan(cert, '10.0.0.6', resolver({ '10.0.0.6': ['x.pods.local.'] }, {})),
      undefined,
    );
    assert.equal(
      await checkClientSan(
        cert,
        '10.0.0.7',
        resolver({ '10.0.0.7': ['other.local.'] }, { 'm1.cluster.local': ['10.0.0.5'] }),
      ),
      'tls: "10.0.0.7" does not match any of DNSNames ["m1.cluster.local" "*.pods.local"]',
    );
  });

  test('a certificate without SANs passes', async () => {
    assert.equal(await checkClientSan(await certFor([]), '10.9.9.9', resolver({}, {})), undefined);
  });
});
