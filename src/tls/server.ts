// Server-side TLS for one side (client port or peer port), built from the
// parsed flags. What etcd 3.4 does, and what this adds:
//  - --trusted-ca-file or --client-cert-auth: client certificates are
//    required and verified (etcd requires them as soon as a CA file is given);
//  - --cert-allowed-cn / --cert-allowed-hostname: checked on the verified
//    client certificate; failures are refused with "client certificate
//    authentication failed" (etcd does it inside the handshake, Node cannot:
//    here the socket is closed right after it, before any byte is read);
//  - --crl-file: serials of the client's chain checked after the handshake;
//  - --auto-tls: a self-signed pair in <data-dir>/fixtures/<side> replaces
//    every other setting, client-cert-auth included, exactly as in etcd;
//  - --cipher-suites: TLS 1.2 suites; TLS 1.2 is the minimum version;
//  - added: certificate, key, CA and CRL files are re-read when they change on
//    disk, for the next connection; a file that does not load (half written,
//    key not matching yet) keeps the previous ones in use, with a warning.
import type { X509Certificate } from 'node:crypto';
import type net from 'node:net';
import type tls from 'node:tls';
import type { TlsConfig } from '../config/types.js';
import type { LogFields, Logger } from '../log/types.js';
import {
  type AllowedRules,
  checkAllowedRules,
  hasAllowedRules,
  subjectAltNames,
  verifyAllowed,
} from './allowed.js';
import { resolveCipherSuites } from './cipher-suites.js';
import { checkClientSan } from './client-san.js';
import { checkRevoked, prepareCrlParser, readRevokedSerials } from './crl.js';
import { TlsSetupError } from './errors.js';
import { filesSignature } from './file-signature.js';
import { goHandshakeErrorText } from './handshake-errors.js';
import { loadCaBundle, loadKeyPair } from './pem.js';
import { ensureSelfSignedPair } from './self-signed.js';

export type TlsSide = 'client' | 'peer';

export interface ServerTlsSettings {
  side: TlsSide;
  tls: TlsConfig;
  /** --cipher-suites (Go names). */
  cipherSuites: readonly string[];
  log: Logger;
  /**
   * Needed when tls.autoTls is set: where the pair is kept (etcd:
   * <data-dir>/fixtures/client or /peer) and the listen URLs' "host:port"s
   * that become its SANs.
   */
  autoTls?: { dir: string; hosts: readonly string[] };
}

/** The TLS settings in force once auto-tls has been applied (etcd's TLSInfo). */
export interface EffectiveTls {
  certFile: string;
  keyFile: string;
  trustedCaFile: string;
  /** Client certificates are required and verified. */
  clientCertAuth: boolean;
  crlFile: string;
  /** The pair is auto-tls's own: clients of the same side skip verification. */
  selfSigned: boolean;
  rules: AllowedRules;
  skipClientSanVerify: boolean;
  /** OpenSSL cipher string, or undefined for Node's defaults. */
  ciphers: string | undefined;
}

export interface ServerTls {
  readonly info: EffectiveTls;
  /** Options for tls.createServer / https.createServer / http2.createSecureServer (current files). */
  options(): tls.TlsOptions;
  /** Keeps `server` on the current files and logs refused handshakes as etcd does. */
  attach(server: tls.Server): void;
  /**
   * Checks after the handshake (allowed CN/hostname, CRL). Call first thing
   * in 'secureConnection'; on false the socket has been logged and destroyed.
   */
  admit(socket: tls.TLSSocket): boolean;
  /**
   * admit() plus the peer listener's client SAN check (etcd's checkSAN, which
   * may look names up in DNS), once per socket: an HTTP server on the peer
   * port awaits `admitted(req.socket)` before serving a request.
   */
  admitted(socket: tls.TLSSocket): Promise<boolean>;
  /** Re-reads changed files now (attach does it before each connection). */
  refresh(): void;
  close(): void;
}

/** etcd's TLSInfo.String(), as it logs it at start. */
export function describeTls(info: EffectiveTls): string {
  return `cert = ${info.certFile}, key = ${info.keyFile}, trusted-ca = ${info.trustedCaFile}, client-cert-auth = ${info.clientCertAuth}, crl-file = ${info.crlFile}`;
}

/** Applies auto-tls (generating the pair if needed) and checks the settings. */
export async function effectiveServerTls(settings: ServerTlsSettings): Promise<EffectiveTls> {
  const t = settings.tls;
  const { ciphers, unavailable } = resolveCipherSuites(settings.cipherSuites);
  if (unavailable.length > 0)
    settings.log.warn('cipher suites not offered by this OpenSSL; ignoring them', {
      'cipher-suites': unavailable,
    });
  const given = t.certFile !== '' || t.keyFile !== '';
  if (t.autoTls && given) settings.log.warn(`ignoring ${settings.side} auto TLS since certs given`);
  if (t.autoTls && !given) {
    if (settings.autoTls === undefined)
      throw new TlsSetupError(`${settings.side} auto TLS needs a directory`);
    const pair = await ensureSelfSignedPair(settings.autoTls.dir, settings.autoTls.hosts, settings.log);
    return {
      ...pair,
      trustedCaFile: '',
      clientCertAuth: false,
      crlFile: '',
      selfSigned: true,
      rules: { allowedCn: '', allowedHostname: '' },
      skipClientSanVerify: false,
      ciphers,
    };
  }
  const rules = { allowedCn: t.allowedCn, allowedHostname: t.allowedHostname };
  checkAllowedRules(rules);
  if (t.certFile === '' || t.keyFile === '')
    throw new TlsSetupError(
      `KeyFile and CertFile must both be present[key: ${t.keyFile}, cert: ${t.certFile}]`,
    );
  return {
    certFile: t.certFile,
    keyFile: t.keyFile,
    trustedCaFile: t.trustedCaFile,
    clientCertAuth: t.clientCertAuth || t.trustedCaFile !== '',
    crlFile: t.crlFile,
    selfSigned: false,
    rules,
    skipClientSanVerify: t.skipClientSanVerify,
    ciphers,
  };
}

export async function createServerTls(settings: ServerTlsSettings): Promise<ServerTls> {
  const info = await effectiveServerTls(settings);
  if (info.crlFile !== '') await prepareCrlParser();
  const state = new ServerTlsState(info, settings.log);
  return state;
}

interface Material {
  cert: Buffer;
  key: Buffer;
  ca: Buffer[] | undefined;
  leaf: X509Certificate;
}

class ServerTlsState implements ServerTls {
  private readonly files: string[];
  private material: Material;
  private signature: string;
  private failedSignature: string | undefined;
  private readonly servers = new Set<tls.Server>();
  private readonly detach: Array<() => void> = [];
  private revoked: { signature: string; serials: Set<string> } | undefined;
  /** Remote addresses by raw socket, for logging handshakes whose TLS socket is already gone. */
  private readonly addresses = new WeakMap<net.Socket, string>();
  private readonly verdicts = new WeakMap<tls.TLSSocket, Promise<boolean>>();

  constructor(
    readonly info: EffectiveTls,
    private readonly log: Logger,
  ) {
    this.files = [info.certFile, info.keyFile, ...(info.trustedCaFile !== '' ? [info.trustedCaFile] : [])];
    this.signature = filesSignature(this.files);
    this.material = loadMaterial(info);
  }

  options(): tls.TlsOptions {
    const m = this.material;
    const opts: tls.TlsOptions = { cert: m.cert, key: m.key, minVersion: 'TLSv1.2' };
    if (m.ca !== undefined) opts.ca = m.ca;
    if (this.info.ciphers !== undefined) opts.ciphers = this.info.ciphers;
    if (this.info.clientCertAuth) {
      opts.requestCert = true;
      opts.rejectUnauthorized = true;
    }
    return opts;
  }

  refresh(): void {
    const signature = filesSignature(this.files);
    if (signature === this.signature || signature === this.failedSignature) return;
    let material: Material;
    try {
      material = loadMaterial(this.info);
    } catch (e) {
      this.failedSignature = signature;
      this.log.warn('failed to reload TLS files; keeping the ones in use', {
        'cert-file': this.info.certFile,
        'key-file': this.info.keyFile,
        'trusted-ca-file': this.info.trustedCaFile,
        error: (e as Error).message,
      });
      return;
    }
    const options = { ...this.options(), cert: material.cert, key: material.key, ca: material.ca };
    try {
      for (const server of this.servers) server.setSecureContext(options);
    } catch (e) {
      this.failedSignature = signature;
      this.log.warn('failed to reload TLS files; keeping the ones in use', { error: (e as Error).message });
      return;
    }
    this.material = material;
    this.signature = signature;
    this.failedSignature = undefined;
    this.log.info('reloaded TLS files', {
      'cert-file': this.info.certFile,
      'key-file': this.info.keyFile,
      'trusted-ca-file': this.info.trustedCaFile,
      serial: material.leaf.serialNumber,
    });
  }

  attach(server: tls.Server): void {
    this.servers.add(server);
    // Runs before tls.Server wraps the socket, so the swap serves this very connection.
    const onConnection = (raw: net.Socket): void => {
      this.addresses.set(raw, `${raw.remoteAddress}:${raw.remotePort}`);
      this.refresh();
    };
    const onClientError = (err: Error, socket: tls.TLSSocket): void => {
      const parent = (socket as unknown as { _parent?: net.Socket })._parent;
      const remote = (parent && this.addresses.get(parent)) ?? `${socket.remoteAddress}:${socket.remotePort}`;
      this.rejected(socket, remote, goHandshakeErrorText(err, socket.authorizationError?.toString()));
    };
    server.prependListener('connection', onConnection);
    server.on('tlsClientError', onClientError);
    this.detach.push(() => {
      server.off('connection', onConnection);
      server.off('tlsClientError', onClientError);
      this.servers.delete(server);
    });
  }

  admit(socket: tls.TLSSocket): boolean {
    if (!this.info.clientCertAuth) return true;
    const leaf = socket.getPeerX509Certificate();
    const refusal = verifyAllowed(leaf, this.info.rules) ?? this.revocation(leaf);
    if (refusal === undefined) return true;
    this.rejected(socket, `${socket.remoteAddress}:${socket.remotePort}`, refusal, leaf);
    socket.destroy();
    return false;
  }

  admitted(socket: tls.TLSSocket): Promise<boolean> {
    let verdict = this.verdicts.get(socket);
    if (verdict === undefined) {
      verdict = this.admitWithSan(socket);
      this.verdicts.set(socket, verdict);
    }
    return verdict;
  }

  private async admitWithSan(socket: tls.TLSSocket): Promise<boolean> {
    if (!this.admit(socket)) return false;
    if (this.info.skipClientSanVerify) return true;
    const leaf = socket.getPeerX509Certificate();
    const remoteIp = socket.remoteAddress;
    if (leaf === undefined || remoteIp === undefined) return true;
    const refusal = await checkClientSan(leaf, remoteIp);
    if (refusal === undefined) return true;
    this.rejected(socket, `${remoteIp}:${socket.remotePort}`, refusal, leaf);
    socket.destroy();
    return false;
  }

  close(): void {
    for (const d of this.detach.splice(0)) d();
  }

  private revocation(leaf: X509Certificate | undefined): string | undefined {
    if (this.info.crlFile === '' || leaf === undefined) return undefined;
    try {
      const signature = filesSignature([this.info.crlFile]);
      if (this.revoked?.signature !== signature)
        this.revoked = { signature, serials: readRevokedSerials(this.info.crlFile) };
      return checkRevoked(chainOf(leaf), this.revoked.serials);
    } catch (e) {
      return (e as Error).message;
    }
  }

  /** etcd's "rejected connection" warning. */
  private rejected(socket: tls.TLSSocket, remote: string, error: string, leaf?: X509Certificate): void {
    const fields: LogFields = {
      'remote-addr': remote,
      'server-name': typeof socket.servername === 'string' ? socket.servername : '',
    };
    if (leaf !== undefined) {
      const san = subjectAltNames(leaf);
      fields['ip-addresses'] = san.ips;
      fields['dns-names'] = san.dns;
    }
    fields.error = error;
    this.log.warn('rejected connection', fields);
  }
}

function loadMaterial(info: EffectiveTls): Material {
  const pair = loadKeyPair(info.certFile, info.keyFile);
  const ca = info.trustedCaFile !== '' ? loadCaBundle(info.trustedCaFile) : undefined;
  return { cert: pair.cert, key: pair.key, ca, leaf: pair.leaf };
}

/** The leaf and the issuers Node verified it with. */
function chainOf(leaf: X509Certificate): X509Certificate[] {
  const out: X509Certificate[] = [leaf];
  let cur = leaf.issuerCertificate;
  while (cur !== undefined && !out.some((c) => c.fingerprint256 === cur?.fingerprint256)) {
    out.push(cur);
    cur = cur.issuerCertificate;
  }
  return out;
}

/** True when the rules need the post-handshake check (for callers deciding whether to call admit). */
export function needsAdmission(info: EffectiveTls): boolean {
  return info.clientCertAuth && (hasAllowedRules(info.rules) || info.crlFile !== '');
}
