// "etcd gateway start": a TCP proxy in front of the cluster's client URLs
// (etcd's proxy/tcpproxy). Each accepted connection is piped to the next healthy
// endpoint; an endpoint that refuses a connection is skipped until a probe every
// --retry-delay reaches it again.

import { connect, createServer, type Server, type Socket } from 'node:net';
import { parseGoDurationNs } from '../../config/values.js';
import type { Logger } from '../../log/types.js';
import { endpointAddress, type GatewayRemote, RemotePool } from './gateway-pool.js';
import { discoverEndpoints, type SrvResolver } from './gateway-srv.js';

export interface GatewayOptions {
  listenAddr: string;
  endpoints: string[];
  retryDelayMs: number;
  /** DNS domain whose SRV records name the endpoints (replacing --endpoints when any are found). */
  discoverySrv?: string;
  discoverySrvName?: string;
  /** Keep http:// SRV endpoints and skip the reachability check. */
  insecureDiscovery?: boolean;
}

/** What tests replace: the DNS resolver used for --discovery-srv. */
export interface GatewayDeps {
  srvResolver?: SrvResolver;
}

/** Accepted client connections at once; beyond this the listener stops accepting. */
const MAX_CONNECTIONS = 10_000;

export const GATEWAY_USAGE = `Usage:
  etcd gateway start [flags]

Flags:
      --endpoints strings   etcd client endpoints, comma-separated (default [127.0.0.1:2379])
      --listen-addr string  address to accept client connections on (default "127.0.0.1:23790")
      --retry-delay duration  how long a failed endpoint is skipped before it is tried again (default 1m0s)
      --discovery-srv string       DNS domain used to bootstrap initial cluster
      --discovery-srv-name string  service name to query when using DNS discovery
      --insecure-discovery         accept insecure SRV records
      --trusted-ca-file string     accepted for compatibility (discovered endpoints are checked by a TCP connection)
`;

export class GatewayUsageError extends Error {}

/** pflag-style parsing of "gateway start" flags ("--f=v", "--f v", bare booleans). */
export function parseGatewayArgs(args: readonly string[]): GatewayOptions {
  const opts: GatewayOptions = {
    listenAddr: '127.0.0.1:23790',
    endpoints: ['127.0.0.1:2379'],
    retryDelayMs: 60_000,
  };
  const booleans = new Set(['insecure-discovery']);
  const strings = new Set([
    'listen-addr',
    'endpoints',
    'retry-delay',
    'discovery-srv',
    'discovery-srv-name',
    'trusted-ca-file',
  ]);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--'))
      throw new GatewayUsageError(`unknown command "${arg}" for "etcd gateway start"`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    if (booleans.has(name)) {
      const v = eq >= 0 ? arg.slice(eq + 1) : 'true';
      if (name === 'insecure-discovery') opts.insecureDiscovery = v === 'true' || v === '1';
      continue;
    }
    if (!strings.has(name)) throw new GatewayUsageError(`unknown flag: --${name}`);
    let value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) throw new GatewayUsageError(`flag needs an argument: --${name}`);
    value = value.trim();
    if (name === 'listen-addr') opts.listenAddr = value;
    if (name === 'endpoints') opts.endpoints = value.split(',').filter((e) => e !== '');
    if (name === 'retry-delay') opts.retryDelayMs = parseGoDurationNs(value) / 1e6;
    if (name === 'discovery-srv') opts.discoverySrv = value;
    if (name === 'discovery-srv-name') opts.discoverySrvName = value;
  }
  return opts;
}

export interface RunningGateway {
  readonly port: number;
  close(): Promise<void>;
}

/** The endpoints to proxy: SRV discovery's when it finds any (etcd's order), else --endpoints. */
async function gatewayEndpoints(opts: GatewayOptions, log: Logger, deps: GatewayDeps): Promise<string[]> {
  if (opts.discoverySrv === undefined || opts.discoverySrv === '') return opts.endpoints;
  const found = await discoverEndpoints(
    {
      domain: opts.discoverySrv,
      ...(opts.discoverySrvName === undefined ? {} : { serviceName: opts.discoverySrvName }),
      insecure: opts.insecureDiscovery === true,
      ...(deps.srvResolver === undefined ? {} : { resolver: deps.srvResolver }),
    },
    log,
  );
  return found.length > 0 ? found.map((e) => e.url) : opts.endpoints;
}

export async function startGateway(
  opts: GatewayOptions,
  log: Logger,
  deps: GatewayDeps = {},
): Promise<RunningGateway> {
  const endpoints = await gatewayEndpoints(opts, log, deps);
  const addrs = endpoints.map((e) => {
    const a = endpointAddress(e);
    if (a === undefined) throw new GatewayUsageError(`error parsing endpoint "${e}"`);
    return a;
  });
  const listen = splitListenAddr(opts.listenAddr);
  const pool = new RemotePool(addrs);
  const clients = new Set<Socket>();
  const server = createServer((client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    void forward(client, pool, opts.retryDelayMs, log);
  });
  server.maxConnections = MAX_CONNECTIONS;
  await listenOn(server, listen.host, listen.port);
  log.info('ready to proxy client requests', { endpoints: addrs });
  const monitor = setInterval(
    () => reactivate(pool, opts.retryDelayMs, log),
    Math.max(opts.retryDelayMs, 10),
  );
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : listen.port,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(monitor);
        for (const c of clients) c.destroy();
        server.close(() => resolve());
      }),
  };
}

function splitListenAddr(addr: string): { host: string; port: number } {
  const colon = addr.lastIndexOf(':');
  const port = Number(addr.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new GatewayUsageError(`failed to validate listen address: ${addr}`);
  }
  return { host: addr.slice(0, colon).replace(/^\[|\]$/g, ''), port };
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host === '' ? undefined : host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function dial(addr: string): Promise<Socket> {
  const colon = addr.lastIndexOf(':');
  const host = addr.slice(0, colon).replace(/^\[|\]$/g, '') || 'localhost';
  const port = Number(addr.slice(colon + 1));
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Dials endpoints in round-robin order until one answers, then pipes both ways. */
async function forward(client: Socket, pool: RemotePool, retryDelayMs: number, log: Logger): Promise<void> {
  client.pause();
  client.on('error', () => client.destroy());
  for (let remote = pool.pick(); remote !== undefined; remote = pool.pick()) {
    let upstream: Socket;
    try {
      upstream = await dial(remote.addr);
    } catch (err) {
      deactivate(remote, retryDelayMs, log, err);
      continue;
    }
    if (client.destroyed) {
      upstream.destroy();
      return;
    }
    upstream.on('error', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
    return;
  }
  client.destroy();
}

function deactivate(remote: GatewayRemote, retryDelayMs: number, log: Logger, err: unknown): void {
  remote.active = false;
  log.warn('deactivated endpoint', {
    address: remote.addr,
    interval: `${retryDelayMs}ms`,
    error: err instanceof Error ? err.message : String(err),
  });
}

function reactivate(pool: RemotePool, retryDelayMs: number, log: Logger): void {
  for (const r of pool.inactive()) {
    dial(r.addr).then(
      (s) => {
        s.destroy();
        r.active = true;
        log.info('activated', { address: r.addr });
      },
      (err: unknown) =>
        log.warn('failed to activate endpoint (stay inactive for another interval)', {
          address: r.addr,
          interval: `${retryDelayMs}ms`,
          error: err instanceof Error ? err.message : String(err),
        }),
    );
  }
}
