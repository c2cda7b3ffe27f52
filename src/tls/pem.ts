// Reading certificate, key and CA files, failing with the words Go's
// crypto/tls and etcd's transport package use for the same mistakes, so that
// etcd-ts and etcdctl report a wrong file as the real ones do.
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TlsSetupError } from './errors.js';

export interface PemBlock {
  type: string;
  /** The whole block, BEGIN to END line, as Node's TLS accepts it. */
  text: string;
  der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

export function pemBlocks(data: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of data.matchAll(BLOCK)) {
    const body = (m[2] as string).split(/\r?\n/).filter((l) => !l.includes(':'));
    out.push({ type: m[1] as string, text: m[0], der: Buffer.from(body.join(''), 'base64') });
  }
  return out;
}

/** Go's os.ReadFile error text: "open PATH: no such file or directory". */
export function readTlsFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file or directory'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : (e as Error).message;
    throw new TlsSetupError(`${code === 'EISDIR' ? 'read' : 'open'} ${path}: ${why}`);
  }
}

export interface KeyPair {
  cert: Buffer;
  key: Buffer;
  /** The leaf certificate (first CERTIFICATE block). */
  leaf: X509Certificate;
}

/**
 * Checks a certificate/key pair as Go's tls.X509KeyPair does: PEM present,
 * parseable, and the key the certificate's.
 */
export function parseKeyPair(cert: Buffer, key: Buffer): KeyPair {
  const certBlocks = pemBlocks(cert.toString('latin1'));
  if (certBlocks.length === 0)
    throw new TlsSetupError('tls: failed to find any PEM data in certificate input');
  const leafBlock = certBlocks.find((b) => b.type === 'CERTIFICATE');
  if (leafBlock === undefined) {
    if (certBlocks.some((b) => b.type.endsWith('PRIVATE KEY')))
      throw new TlsSetupError(
        'tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched',
      );
    throw new TlsSetupError(
      `tls: failed to find "CERTIFICATE" PEM block in certificate input after skipping PEM blocks of the following types: [${certBlocks.map((b) => b.type).join(' ')}]`,
    );
  }
  const keyBlocks = pemBlocks(key.toString('latin1'));
  if (keyBlocks.length === 0) throw new TlsSetupError('tls: failed to find any PEM data in key input');
  const keyBlock = keyBlocks.find((b) => b.type === 'PRIVATE KEY' || b.type.endsWith(' PRIVATE KEY'));
  if (keyBlock === undefined) {
    if (keyBlocks.some((b) => b.type === 'CERTIFICATE'))
      throw new TlsSetupError('tls: found a certificate rather than a key in the PEM for the private key');
    throw new TlsSetupError(
      `tls: failed to find PEM block with type ending in "PRIVATE KEY" in key input after skipping PEM blocks of the following types: [${keyBlocks.map((b) => b.type).join(' ')}]`,
    );
  }
  const leaf = parseCertificate(leafBlock);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyBlock.text);
  } catch {
    throw new TlsSetupError('tls: failed to parse private key');
  }
  const certKey = leaf.publicKey;
  if (certKey.asymmetricKeyType !== privateKey.asymmetricKeyType)
    throw new TlsSetupError('tls: private key type does not match public key type');
  const derived = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!derived.equals(certKey.export({ type: 'spki', format: 'der' })))
    throw new TlsSetupError('tls: private key does not match public key');
  return { cert, key, leaf };
}

/** Reads and checks a pair; etcd reads the certificate file first. */
export function loadKeyPair(certFile: string, keyFile: string): KeyPair {
  const cert = readTlsFile(certFile);
  const key = readTlsFile(keyFile);
  return parseKeyPair(cert, key);
}

function parseCertificate(block: PemBlock): X509Certificate {
  try {
    return new X509Certificate(block.der);
  } catch {
    throw new TlsSetupError('x509: malformed certificate');
  }
}

/**
 * A CA bundle as etcd's NewCertPool reads it: every PEM block must be a
 * certificate Go can parse; text without PEM blocks yields an empty pool
 * (which then trusts nothing), as in Go.
 */
export function loadCaBundle(file: string): Buffer[] {
  const data = readTlsFile(file);
  return pemBlocks(data.toString('latin1')).map((b) => {
    parseCertificate(b);
    return Buffer.from(`${b.text}\n`, 'latin1');
  });
}
