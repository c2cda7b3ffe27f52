// DNS SRV discovery of a cluster's client endpoints, as etcd 3.4's gateway and
// grpc-proxy do it (`--discovery-srv`, `--discovery-srv-name`,
// `--insecure-discovery`): `_etcd-client-ssl[-name]._tcp.<domain>` gives
// https:// endpoints, `_etcd-client[-name]._tcp.<domain>` http:// ones. Only
// when both lookups fail is discovery an error. Unless discovery is insecure,
// http:// endpoints are dropped and https:// ones must accept a TCP connection.
// The resolver is injectable so tests answer without a DNS server.

import { promises as dnsPromises } from 'node:dns';
import { connect } from 'node:net';
import type { Logger } from '../../log/types.js';

export interface SrvRecord {
  name: string;
  port: number;
  priority: number;
  weight: number;
}

export interface SrvResolver {
  /** The records for `name`; rejects with a node:dns style error (`code`) when there are none. */
  resolveSrv(name: string): Promise<SrvRecord[]>;
  /** Name servers asked, for the error text ("lookup X on 10.0.0.1:53: no such host"). */
  servers(): string[];
}

export const systemSrvResolver: SrvResolver = {
  resolveSrv: (name) => dnsPromises.resolveSrv(name),
  servers: () => dnsPromises.getServers(),
};

export interface SrvDiscoveryOptions {
  domain: string;
  serviceName?: string;
  insecure?: boolean;
  resolver?: SrvResolver;
  /** Reachability check of a discovered https endpoint; default: a TCP connection within 5 s. */
  probe?: (host: string, port: number) => Promise<void>;
}

export interface DiscoveredEndpoint {
  /** `https://host:port` or `http://host:port`. */
  url: string;
  host: string;
  port: number;
}

/** Discovery failed as etcd reports it; the command prints the message and exits 1. */
export class SrvDiscoveryError extends Error {}

/** etcd's srv.GetSRVService: "-ssl" for https, then "-<name>" when a service name is given. */
export function srvServiceName(service: string, serviceName: string | undefined, scheme: 'https' | 'http') {
  const base = scheme === 'https' ? `${service}-ssl` : service;
  return serviceName !== undefined && serviceName !== '' ? `${base}-${serviceName}` : base;
}

/** Go's resolver wording for the DNS failures node:dns reports by code. */
function goLookupReason(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case 'ENOTFOUND':
    case 'ENODATA':
    case 'NXDOMAIN':
      return 'no such host';
    case 'ETIMEOUT':
      return 'i/o timeout';
    case 'ESERVFAIL':
    case 'EREFUSED':
    case 'EBADRESP':
      return 'server misbehaving';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

function nameServer(resolver: SrvResolver): string {
  const first = resolver.servers()[0] ?? '127.0.0.1';
  // node omits the default port; Go always prints it.
  if (first.startsWith('[')) return first.includes(']:') ? first : `${first}:53`;
  return first.includes(':') && first.split(':').length === 2 ? first : `${first}:53`;
}

async function lookup(resolver: SrvResolver, fqdn: string): Promise<SrvRecord[]> {
  let records: SrvRecord[];
  try {
    records = await resolver.resolveSrv(fqdn);
  } catch (err) {
    throw new Error(`lookup ${fqdn} on ${nameServer(resolver)}: ${goLookupReason(err)}`);
  }
  // Go's resolver treats an empty answer as "no such host" and orders by priority, then weight.
  if (records.length === 0) throw new Error(`lookup ${fqdn} on ${nameServer(resolver)}: no such host`);
  return [...records].sort((a, b) => a.priority - b.priority || b.weight - a.weight);
}

function urlHost(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The client endpoints named by the domain's SRV records (etcd's srv.GetClient("etcd-client", ...)). */
export async function lookupClientEndpoints(
  domain: string,
  serviceName: string | undefined,
  resolver: SrvResolver,
): Promise<DiscoveredEndpoint[]> {
  const found: DiscoveredEndpoint[] = [];
  const errors: string[] = [];
  for (const scheme of ['https', 'http'] as const) {
    const fqdn = `_${srvServiceName('etcd-client', serviceName, scheme)}._tcp.${domain}`;
    try {
      for (const r of await lookup(resolver, fqdn)) {
        found.push({ url: `${scheme}://${urlHost(r.name, r.port)}`, host: r.name, port: r.port });
      }
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  if (errors.length === 2) throw new SrvDiscoveryError(`dns lookup errors: ${errors[0]} and ${errors[1]}`);
  return found;
}

function tcpProbe(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: 5000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`dial tcp ${urlHost(host, port)}: i/o timeout`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new Error(
          err.code === 'ECONNREFUSED'
            ? `dial tcp ${urlHost(host, port)}: connect: connection refused`
            : err.message,
        ),
      );
    });
  });
}

/**
 * etcd's discoverEndpoints: the SRV endpoints, keeping (unless insecure) only
 * https:// ones that accept a connection. Empty when none survive; the caller
 * then falls back to --endpoints, as etcd does.
 */
export async function discoverEndpoints(
  opts: SrvDiscoveryOptions,
  log: Logger,
): Promise<DiscoveredEndpoint[]> {
  const resolver = opts.resolver ?? systemSrvResolver;
  const all = await lookupClientEndpoints(opts.domain, opts.serviceName, resolver);
  const urls = all.map((e) => e.url);
  log.info('discovered cluster from SRV', { 'srv-server': opts.domain, endpoints: urls });
  if (opts.insecure === true) return all;
  log.info('validating discovered SRV endpoints', { 'srv-server': opts.domain, endpoints: urls });
  const probe = opts.probe ?? tcpProbe;
  const kept: DiscoveredEndpoint[] = [];
  const problems: string[] = [];
  for (const e of all) {
    if (!e.url.startsWith('https://')) {
      problems.push(`${JSON.stringify(e.url)} is insecure`);
      continue;
    }
    try {
      await probe(e.host, e.port);
      kept.push(e);
    } catch (err) {
      problems.push(`${JSON.stringify(e.url)} failed to dial (${(err as Error).message})`);
    }
  }
  const keptUrls = kept.map((e) => e.url);
  if (problems.length > 0) {
    log.warn('failed to validate discovered endpoints', {
      'srv-server': opts.domain,
      endpoints: keptUrls,
      error: problems.join(','),
    });
  } else {
    log.info('using validated discovered SRV endpoints', { 'srv-server': opts.domain, endpoints: keptUrls });
  }
  return kept;
}
