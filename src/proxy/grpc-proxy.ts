// `etcd grpc-proxy start` as a library: a gRPC server on --listen-addr whose
// services forward to the cluster through our client (src/client), with etcd's
// proxy features on top: watch coalescing, a cache for serializable ranges,
// --namespace, and /health and /metrics on the same port. Auth, Maintenance,
// Lock, Election and most of Lease and Cluster go upstream byte for byte.
import type tls from 'node:tls';
import { GrpcServer } from '../api/grpc/server.js';
import { type ClientListener, createClientListener } from '../api/listener.js';
import { EtcdClient, type TlsOptions } from '../client/index.js';
import type { Logger } from '../log/types.js';
import {
  AuthDefinition,
  ClusterDefinition,
  KVDefinition,
  LeaseDefinition,
  MaintenanceDefinition,
  WatchDefinition,
} from '../pb/etcdserverpb/rpc.js';
import { ElectionDefinition } from '../pb/v3electionpb/v3election.js';
import { LockDefinition } from '../pb/v3lockpb/v3lock.js';
import { CLUSTER_METHODS_HANDLED, clusterProxy } from './cluster-proxy.js';
import { forwardService, upstream, upstreamOptions } from './forward.js';
import { kvProxy } from './kv-proxy.js';
import { Namespace } from './namespace.js';
import { proxyHttpHandler } from './proxy-http.js';
import { ProxyMetrics } from './proxy-metrics.js';
import { DEFAULT_MAX_ENTRIES, RangeCache } from './range-cache.js';
import { WatchProxy } from './watch-proxy.js';

export interface GrpcProxyOptions {
  /** Cluster client endpoints (`h:p`, `http://h:p`, `https://h:p`). */
  endpoints: string[];
  /** host:port to serve on (port 0 picks one). */
  listenAddr: string;
  /** What MemberList reports as the proxy's client URL; empty: the cluster's own member list. */
  advertiseClientUrl: string;
  /** Prefix added to every key on the way to the cluster. */
  namespace: string;
  /** TLS towards the cluster (--cert, --key, --cacert, --insecure-skip-tls-verify). */
  clientTls?: TlsOptions;
  /** TLS on the proxy's own port (--cert-file, --key-file, --trusted-ca-file). */
  serverTls?: tls.TlsOptions;
  /** Largest request the proxy accepts from its clients. */
  maxRecvBytes?: number;
  cacheEntries?: number;
}

export interface RunningGrpcProxy {
  readonly host: string;
  readonly port: number;
  readonly metrics: ProxyMetrics;
  readonly client: EtcdClient;
  /** The HTTP handler of the port (/health, /metrics), for an extra --metrics-addr listener. */
  readonly httpHandler: ReturnType<typeof proxyHttpHandler>;
  close(): Promise<void>;
}

/** The first endpoint as a URL with a scheme, for fetching its /metrics. */
function metricsUpstream(endpoint: string, secure: boolean): string {
  if (/^https?:\/\//.test(endpoint)) return endpoint.replace(/\/+$/, '');
  return `${secure ? 'https' : 'http'}://${endpoint}`;
}

export function splitHostPort(addr: string): { host: string; port: number } {
  const colon = addr.lastIndexOf(':');
  const port = Number(addr.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`listen tcp ${addr}: address ${addr}: missing port in address`);
  }
  return { host: addr.slice(0, colon).replace(/^\[|\]$/g, '') || '0.0.0.0', port };
}

export async function startGrpcProxy(opts: GrpcProxyOptions, log: Logger): Promise<RunningGrpcProxy> {
  const client = new EtcdClient({
    endpoints: opts.endpoints,
    ...(opts.clientTls === undefined ? {} : { tls: opts.clientTls }),
  });
  const metrics = new ProxyMetrics();
  const ns = new Namespace(opts.namespace);
  const cache = new RangeCache(opts.cacheEntries ?? DEFAULT_MAX_ENTRIES);
  const watches = new WatchProxy(client, ns, metrics);

  const grpc = new GrpcServer({
    ...(opts.maxRecvBytes === undefined ? {} : { maxReceiveMessageBytes: opts.maxRecvBytes }),
  });
  grpc.addService(KVDefinition, kvProxy(client, cache, ns, metrics));
  grpc.addService(WatchDefinition, watches.service());
  if (ns.enabled) {
    grpc.addService(LeaseDefinition, {
      leaseTimeToLive: async (req, ctx) => {
        const resp = await upstream(() => client.lease.leaseTimeToLive(req, upstreamOptions(ctx)));
        return { ...resp, keys: ns.leaseKeys(resp.keys) };
      },
    });
    forwardService(grpc, LeaseDefinition, client, new Set(['leaseTimeToLive']));
  } else {
    forwardService(grpc, LeaseDefinition, client);
  }
  grpc.addService(
    ClusterDefinition,
    clusterProxy(opts.advertiseClientUrl, () => client.cluster.memberList({})),
  );
  forwardService(grpc, ClusterDefinition, client, CLUSTER_METHODS_HANDLED);
  forwardService(grpc, MaintenanceDefinition, client);
  forwardService(grpc, AuthDefinition, client);
  forwardService(grpc, LockDefinition, client);
  forwardService(grpc, ElectionDefinition, client);

  const first = opts.endpoints[0] as string;
  const httpHandler = proxyHttpHandler({
    client,
    metrics,
    metricsUpstream: metricsUpstream(first, opts.clientTls !== undefined),
    ...(opts.clientTls === undefined ? {} : { clientTls: opts.clientTls }),
  });
  const { host, port } = splitHostPort(opts.listenAddr);
  let listener: ClientListener;
  try {
    listener = await createClientListener({
      host,
      port,
      grpc,
      http1: httpHandler,
      ...(opts.serverTls === undefined ? {} : { tls: opts.serverTls }),
    });
  } catch (err) {
    client.close();
    watches.close();
    throw err;
  }
  const address = `${opts.listenAddr.slice(0, opts.listenAddr.lastIndexOf(':'))}:${listener.port}`;
  log.info('listening for gRPC proxy client requests', { address });
  log.info('started gRPC proxy', { address });
  return {
    host,
    port: listener.port,
    metrics,
    client,
    httpHandler,
    close: async () => {
      watches.close();
      await listener.close(true);
      client.close();
      log.info('stop listening gRPC proxy client requests', { address });
    },
  };
}
