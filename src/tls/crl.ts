// --client-crl-file / --peer-crl-file: etcd reads the list after each
// handshake and refuses a connection any of whose certificates has a listed
// serial ("transport: certificate serial <hex> revoked"). It does not check the
// list's signature or dates; neither does this. PEM ("X509 CRL") or DER.
import type { X509Certificate } from 'node:crypto';
import { TlsSetupError } from './errors.js';
import { pemBlocks, readTlsFile } from './pem.js';

type Pkijs = typeof import('pkijs');

let pkijs: Pkijs | undefined;

/** Loads the parser once, before the first (synchronous) check needs it. */
export async function prepareCrlParser(): Promise<void> {
  pkijs ??= await import('pkijs');
}

/** Serial numbers (upper-case hex, no leading zeros) listed in the CRL file. */
export function readRevokedSerials(file: string): Set<string> {
  if (pkijs === undefined) throw new Error('prepareCrlParser() was not awaited');
  const data = readTlsFile(file);
  const text = data.toString('latin1');
  const der = text.startsWith('-----BEGIN X509 CRL')
    ? (pemBlocks(text).find((b) => b.type === 'X509 CRL')?.der ?? Buffer.alloc(0))
    : data;
  let crl: InstanceType<Pkijs['CertificateRevocationList']>;
  try {
    crl = pkijs.CertificateRevocationList.fromBER(der);
  } catch (e) {
    throw new TlsSetupError(`x509: malformed crl (${(e as Error).message})`);
  }
  const out = new Set<string>();
  for (const r of crl.revokedCertificates ?? []) {
    out.add(normalizeSerial(Buffer.from(r.userCertificate.valueBlock.valueHexView).toString('hex')));
  }
  return out;
}

/** Upper-case hex without leading zeros, so serials from either side compare equal. */
export function normalizeSerial(hex: string): string {
  return hex.replace(/^0+/, '').toUpperCase() || '0';
}

/** undefined when no certificate of the chain is revoked; etcd's text otherwise. */
export function checkRevoked(
  chain: readonly X509Certificate[],
  revoked: ReadonlySet<string>,
): string | undefined {
  for (const cert of chain) {
    const serial = normalizeSerial(cert.serialNumber);
    if (revoked.has(serial)) {
      const even = serial.length % 2 === 1 ? `0${serial}` : serial;
      return `transport: certificate serial ${even.toLowerCase()} revoked`;
    }
  }
  return undefined;
}
