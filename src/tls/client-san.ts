// The peer listener's client SAN check (etcd's checkSAN; off with
// --experimental-peer-skip-client-san-verification): a member presenting a
// certificate with SANs must connect from an address those SANs name --
// an IP SAN equal to its address, or a DNS SAN that resolves (forward) or
// reverse-resolves to it. A certificate without SANs passes.
import type { X509Certificate } from 'node:crypto';
import { promises as dns } from 'node:dns';
import { certificateValidForHost, subjectAltNames } from './allowed.js';

export interface SanResolver {
  reverse(ip: string): Promise<string[]>;
  lookup(name: string): Promise<string[]>;
}

const systemResolver: SanResolver = {
  reverse: (ip) => dns.reverse(ip),
  lookup: async (name) => (await dns.lookup(name, { all: true })).map((a) => a.address),
};

/** undefined when the remote address is named by the certificate; Go's error text otherwise. */
export async function checkClientSan(
  cert: X509Certificate,
  remoteIp: string,
  resolver: SanResolver = systemResolver,
): Promise<string | undefined> {
  const san = subjectAltNames(cert);
  if (san.ips.length === 0 && san.dns.length === 0) return undefined;
  if (san.ips.length > 0) {
    if (certificateValidForHost(cert, remoteIp)) return undefined;
    if (san.dns.length === 0) return `x509: certificate is valid for ${san.ips.join(', ')}, not ${remoteIp}`;
  }
  let lastError: string | undefined;
  const wildcards = san.dns.filter((n) => n.startsWith('*.')).map((n) => n.slice(1));
  const names = san.dns.filter((n) => !n.startsWith('*.'));
  try {
    for (let name of await resolver.reverse(remoteIp)) {
      name = name.replace(/\.$/, '');
      if (wildcards.some((w) => name.endsWith(w)) || names.includes(name)) return undefined;
    }
  } catch (e) {
    lastError = (e as Error).message;
  }
  for (const name of names) {
    try {
      if ((await resolver.lookup(name)).includes(remoteIp)) return undefined;
    } catch (e) {
      lastError = (e as Error).message;
    }
  }
  const quoted = `[${san.dns.map((n) => JSON.stringify(n)).join(' ')}]`;
  return `tls: ${JSON.stringify(remoteIp)} does not match any of DNSNames ${quoted}${lastError ? ` (${lastError})` : ''}`;
}
