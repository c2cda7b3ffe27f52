// The TLS flag checks etcd makes before it touches the data dir (its listeners
// are configured first): a member started with a bad --cipher-suites, or with
// both --peer-cert-allowed-cn and --peer-cert-allowed-hostname for an https
// peer URL, must fail having created nothing.
import type { ServerConfig } from '../config/types.js';
import { checkAllowedRules } from './allowed.js';
import { resolveCipherSuites } from './cipher-suites.js';

/** Throws TlsSetupError with etcd's text. */
export function validateTlsFlags(
  cfg: Pick<ServerConfig, 'cipherSuites' | 'peerTls' | 'listenPeerUrls'>,
): void {
  resolveCipherSuites(cfg.cipherSuites);
  const httpsPeer = cfg.listenPeerUrls.some((u) => u.startsWith('https://') || u.startsWith('unixs://'));
  const t = cfg.peerTls;
  // auto-tls without a pair replaces the whole peer TLS setting, rules included.
  const selfSigned = t.autoTls && t.certFile === '' && t.keyFile === '';
  if (httpsPeer && !selfSigned) checkAllowedRules(t);
}
