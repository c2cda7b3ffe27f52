// Client-side TLS for a member dialling another member's https peer URL, as
// etcd's peer transport does with the --peer-* settings:
//  - presents --peer-cert-file/--peer-key-file (re-read when they change, as
//    etcd re-reads them per handshake);
//  - verifies the server against --peer-trusted-ca-file (system roots when
//    none), including its name against the URL's host;
//  - --peer-cert-allowed-cn / -hostname apply to the server's certificate too
//    (etcd shares the check between both directions);
//  - with --peer-auto-tls it presents the self-signed pair and skips
//    verification, as etcd does.
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../log/types.js';
import { hasAllowedRules, verifyAllowed } from './allowed.js';
import { filesSignature } from './file-signature.js';
import { loadCaBundle, loadKeyPair } from './pem.js';
import type { EffectiveTls } from './server.js';

export interface ClientTls {
  /**
   * Options for tls.connect / https.request / http2.connect to `host` (the
   * peer URL's hostname, without brackets). Fresh files each call.
   */
  options(host: string): tls.ConnectionOptions;
  close(): void;
}

/**
 * `info` is the side's EffectiveTls (createServerTls(...).info or
 * effectiveServerTls(...)), so that auto-tls's pair and cipher suites are shared.
 */
export function createClientTls(info: EffectiveTls, log: Logger): ClientTls {
  const files = [
    info.certFile,
    info.keyFile,
    ...(info.trustedCaFile !== '' ? [info.trustedCaFile] : []),
  ].filter((f) => f !== '');
  let signature = '';
  let base: tls.ConnectionOptions = {};
  const reload = (): void => {
    const now = filesSignature(files);
    if (now === signature) return;
    try {
      const next: tls.ConnectionOptions = { minVersion: 'TLSv1.2' };
      if (info.certFile !== '' && info.keyFile !== '') {
        const pair = loadKeyPair(info.certFile, info.keyFile);
        next.cert = pair.cert;
        next.key = pair.key;
      }
      if (info.trustedCaFile !== '') next.ca = loadCaBundle(info.trustedCaFile);
      if (info.ciphers !== undefined) next.ciphers = info.ciphers;
      base = next;
      signature = now;
    } catch (e) {
      // First load: nothing to fall back on.
      if (signature === '') throw e;
      log.warn('failed to reload peer client TLS files; keeping the ones in use', {
        'cert-file': info.certFile,
        'key-file': info.keyFile,
        error: (e as Error).message,
      });
      signature = now;
    }
  };
  reload();
  return {
    options(host: string): tls.ConnectionOptions {
      reload();
      const opts: tls.ConnectionOptions = { ...base, rejectUnauthorized: !info.selfSigned };
      if (isIP(host) === 0) opts.servername = host;
      if (hasAllowedRules(info.rules)) {
        opts.checkServerIdentity = (hostname, cert) => {
          const err = tls.checkServerIdentity(hostname, cert);
          if (err !== undefined) return err;
          const refusal = verifyAllowed(new X509Certificate(cert.raw), info.rules);
          return refusal === undefined ? undefined : new Error(refusal);
        };
      }
      return opts;
    },
    close(): void {},
  };
}
