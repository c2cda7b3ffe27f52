// --auto-tls / --peer-auto-tls: a self-signed certificate, made once and kept
// in <data-dir>/fixtures/client (or /peer) as cert.pem and key.pem; a member
// that finds both files there uses them again, as etcd 3.4 does. The
// certificate is etcd 3.4's: ECDSA P-521 signed with SHA-512, 128-bit random
// serial, subject O=etcd, valid one year from now, key usage digital signature
// + key encipherment, extended key usage server auth (+ client auth when asked),
// not a CA, SANs from the listen URLs' hosts (IPs as IP SANs, names as DNS SANs).
// X.509 encoding is pkijs's (docs/decisions/0012-tls.md); it is loaded only here.
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../log/types.js';
import { TlsSetupError } from './errors.js';

export interface SelfSignedFiles {
  certFile: string;
  keyFile: string;
}

export interface SelfSignedOptions {
  /** Also mark the certificate for client auth (so members can present it to each other). */
  clientAuth?: boolean;
  /** Validity; etcd uses one year. */
  validDays?: number;
  /** Subject CN (etcd sets none; tests use it). */
  commonName?: string;
}

const OID_ORGANIZATION = '2.5.4.10';
const OID_COMMON_NAME = '2.5.4.3';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/**
 * Returns the pair in `dir`, generating it first when cert.pem or key.pem is
 * missing. `hosts` are "host:port" (or bare hosts) as in the listen URLs.
 */
export async function ensureSelfSignedPair(
  dir: string,
  hosts: readonly string[],
  log: Logger,
  options: SelfSignedOptions = {},
): Promise<SelfSignedFiles> {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    log.warn('cannot create cert directory', { error: (e as Error).message });
    throw new TlsSetupError((e as Error).message);
  }
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile };
  const { certPem, keyPem } = await generateSelfSigned(hosts, options);
  writeFileSync(certFile, certPem, { mode: 0o644 });
  log.info('created cert file', { path: certFile });
  writeFileSync(keyFile, keyPem, { mode: 0o600 });
  log.info('created key file', { path: keyFile });
  return { certFile, keyFile };
}

/** Host part of "host:port", "[v6]:port" or a bare host. */
export function hostOfAddress(address: string): string {
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    return close > 0 ? address.slice(1, close) : address;
  }
  const colon = address.lastIndexOf(':');
  if (colon >= 0 && address.indexOf(':') === colon) return address.slice(0, colon);
  return address;
}

export async function generateSelfSigned(
  hosts: readonly string[],
  options: SelfSignedOptions = {},
): Promise<{ certPem: string; keyPem: string }> {
  const pkijs = await import('pkijs');
  const asn1js = await import('asn1js');
  // pkijs is typed against the DOM's WebCrypto; Node's is the same API under other type names.
  type DomCrypto = ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'];
  type DomKey = Parameters<InstanceType<typeof pkijs.PublicKeyInfo>['importKey']>[0];
  const engine = new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as DomCrypto });
  const algorithm = { name: 'ECDSA', namedCurve: 'P-521' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);

  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = randomBytes(16);
  serial[0] = (serial[0] as number) & 0x7f; // positive, < 2^128, as Go's rand.Int(2^128)
  cert.serialNumber = new asn1js.Integer({ valueHex: trimLeadingZeros(serial) });
  for (const name of [cert.subject, cert.issuer]) {
    name.typesAndValues.push(
      new pkijs.AttributeTypeAndValue({
        type: OID_ORGANIZATION,
        value: new asn1js.PrintableString({ value: 'etcd' }),
      }),
    );
    if (options.commonName !== undefined)
      name.typesAndValues.push(
        new pkijs.AttributeTypeAndValue({
          type: OID_COMMON_NAME,
          value: new asn1js.Utf8String({ value: options.commonName }),
        }),
      );
  }
  const now = new Date();
  cert.notBefore.value = now;
  cert.notAfter.value = new Date(now.getTime() + (options.validDays ?? 365) * 24 * 3600 * 1000);

  // digitalSignature (bit 0) + keyEncipherment (bit 2): 0b101 in the first bits.
  const keyUsage = new asn1js.BitString({ valueHex: Uint8Array.from([0xa0]).buffer, unusedBits: 5 });
  const purposes = options.clientAuth ? [OID_SERVER_AUTH, OID_CLIENT_AUTH] : [OID_SERVER_AUTH];
  const dnsNames: string[] = [];
  const ips: Uint8Array[] = [];
  for (const address of hosts) {
    const host = hostOfAddress(address);
    if (host === '') continue;
    if (isIP(host) !== 0) ips.push(ipBytes(host));
    else dnsNames.push(host);
  }
  // Go writes DNS names before IP addresses.
  const names = [
    ...dnsNames.map((value) => new pkijs.GeneralName({ type: 2, value })),
    ...ips.map(
      (ip) =>
        new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: toArrayBuffer(ip) }) }),
    ),
  ];
  cert.extensions = [
    new pkijs.Extension({ extnID: OID_KEY_USAGE, critical: true, extnValue: keyUsage.toBER(false) }),
    new pkijs.Extension({
      extnID: OID_EXT_KEY_USAGE,
      critical: false,
      extnValue: new pkijs.ExtKeyUsage({ keyPurposes: purposes }).toSchema().toBER(false),
    }),
    new pkijs.Extension({
      extnID: OID_BASIC_CONSTRAINTS,
      critical: true,
      extnValue: new pkijs.BasicConstraints({ cA: false }).toSchema().toBER(false),
    }),
  ];
  if (names.length > 0) {
    cert.extensions.push(
      new pkijs.Extension({
        extnID: OID_SUBJECT_ALT_NAME,
        critical: false,
        extnValue: new pkijs.GeneralNames({ names }).toSchema().toBER(false),
      }),
    );
  }
  await cert.subjectPublicKeyInfo.importKey(keys.publicKey as unknown as DomKey, engine);
  await cert.sign(keys.privateKey as unknown as DomKey, 'SHA-512', engine);
  const der = Buffer.from(cert.toSchema(true).toBER(false));
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'sec1' })
    .toString();
  return { certPem: toPem('CERTIFICATE', der), keyPem };
}

function toPem(type: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

function trimLeadingZeros(b: Buffer): ArrayBuffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && ((b[i + 1] as number) & 0x80) === 0) i++;
  return toArrayBuffer(b.subarray(i));
}

function toArrayBuffer(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}

/** 4 bytes for IPv4, 16 for IPv6, as Go marshals IP SANs. */
function ipBytes(ip: string): Uint8Array {
  if (isIP(ip) === 4) return Uint8Array.from(ip.split('.').map(Number));
  const [head, tail] = ip.includes('::') ? (ip.split('::') as [string, string]) : [ip, undefined];
  const parse = (s: string | undefined): number[] =>
    s === undefined || s === '' ? [] : s.split(':').flatMap((g) => groupsOf(g));
  const left = parse(head);
  const right = parse(tail);
  const zeros = new Array<number>(16 - left.length - right.length).fill(0);
  return Uint8Array.from(tail === undefined ? left : [...left, ...zeros, ...right]);
}

/** One IPv6 group as two bytes; an embedded dotted IPv4 tail as four. */
function groupsOf(group: string): number[] {
  if (group.includes('.')) return group.split('.').map(Number);
  const v = Number.parseInt(group, 16);
  return [v >> 8, v & 0xff];
}
