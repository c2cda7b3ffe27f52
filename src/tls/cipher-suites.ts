// --cipher-suites: etcd takes Go's cipher suite names (crypto/tls CipherSuites()
// and InsecureCipherSuites(), plus two legacy CHACHA20 aliases etcd accepts);
// Node's TLS takes OpenSSL's. As in Go, the list restricts TLS 1.2 only: TLS 1.3
// always negotiates with its three standard suites whatever the flag says.
import { getCiphers } from 'node:tls';
import { TlsSetupError } from './errors.js';

/** Go's name → OpenSSL's; null where Go knows the suite but OpenSSL 3 does not offer it (RC4, 3DES). */
const GO_TO_OPENSSL: ReadonlyMap<string, string | null> = new Map([
  ['TLS_RSA_WITH_AES_128_CBC_SHA', 'AES128-SHA'],
  ['TLS_RSA_WITH_AES_256_CBC_SHA', 'AES256-SHA'],
  ['TLS_RSA_WITH_AES_128_GCM_SHA256', 'AES128-GCM-SHA256'],
  ['TLS_RSA_WITH_AES_256_GCM_SHA384', 'AES256-GCM-SHA384'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'ECDHE-ECDSA-AES128-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'ECDHE-ECDSA-AES256-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'ECDHE-RSA-AES128-SHA'],
  ['TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'ECDHE-RSA-AES256-SHA'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'ECDHE-ECDSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'ECDHE-RSA-AES128-GCM-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'ECDHE-RSA-AES256-GCM-SHA384'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305'],
  ['TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305', 'ECDHE-ECDSA-CHACHA20-POLY1305'],
  // Go's "insecure" list: accepted by etcd all the same.
  ['TLS_RSA_WITH_AES_128_CBC_SHA256', 'AES128-SHA256'],
  ['TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'ECDHE-ECDSA-AES128-SHA256'],
  ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'ECDHE-RSA-AES128-SHA256'],
  ['TLS_RSA_WITH_RC4_128_SHA', null],
  ['TLS_RSA_WITH_3DES_EDE_CBC_SHA', null],
  ['TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', null],
  ['TLS_ECDHE_RSA_WITH_RC4_128_SHA', null],
  ['TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', null],
]);

/** TLS 1.3 suites: valid names for etcd, but (as in Go) they do not change what TLS 1.3 offers. */
export const TLS13_SUITES: readonly string[] = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
];

export interface CipherChoice {
  /** For Node's `ciphers` option; undefined leaves Node's defaults (the flag was empty). */
  ciphers: string | undefined;
  /** Names etcd accepts that this OpenSSL cannot offer; the caller logs them. */
  unavailable: string[];
}

/**
 * Maps etcd's --cipher-suites to an OpenSSL cipher string. An unknown name
 * fails as etcd fails at start-up: `unexpected TLS cipher suite "NAME"`.
 */
export function resolveCipherSuites(names: readonly string[]): CipherChoice {
  if (names.length === 0) return { ciphers: undefined, unavailable: [] };
  const available = new Set(getCiphers().map((c) => c.toUpperCase()));
  const tls12: string[] = [];
  const unavailable: string[] = [];
  for (const name of names) {
    if (TLS13_SUITES.includes(name)) continue;
    const openssl = GO_TO_OPENSSL.get(name);
    if (openssl === undefined) throw new TlsSetupError(`unexpected TLS cipher suite ${JSON.stringify(name)}`);
    if (openssl === null || !available.has(openssl)) unavailable.push(name);
    else if (!tls12.includes(openssl)) tls12.push(openssl);
  }
  return { ciphers: [...tls12, ...TLS13_SUITES].join(':'), unavailable };
}
