// startEtcd: everything one member needs, wired together -- storage and raft
// (bootstrap.ts), the member (server.ts), the client API services on a gRPC
// server, and one shared gRPC/HTTP port per --listen-client-urls entry.
import { GrpcServer } from '../api/grpc/server.js';
import type { ClientListener } from '../api/listener.js';
import { registerServices } from '../api/services/index.js';
import type { ServerConfig } from '../config/types.js';
import type { Logger } from '../log/types.js';
import { bootStorage } from './bootstrap.js';
import { listenClients } from './client-listeners.js';
import { createHttpHandler, serveHttp2Stream } from './http1.js';
import { EtcdServer } from './server.js';

/** etcd accepts gRPC messages this much larger than --max-request-bytes (envelope overhead). */
const GRPC_OVERHEAD_BYTES = 512 * 1024;

export interface RunningEtcd {
  readonly server: EtcdServer;
  /** Ports actually bound, in --listen-client-urls order (useful with port 0). */
  readonly clientPorts: number[];
  close(): Promise<void>;
}

export async function startEtcd(cfg: ServerConfig, log: Logger): Promise<RunningEtcd> {
  log.info('starting an etcd server', {
    name: cfg.name,
    'data-dir': cfg.dataDir,
    'snapshot-count': cfg.snapshotCount,
    'heartbeat-interval': `${cfg.heartbeatIntervalMs}ms`,
    'election-timeout': `${cfg.electionTimeoutMs}ms`,
    'initial-cluster': cfg.initialClusterRaw,
    'initial-cluster-state': cfg.initialClusterState,
    'listen-client-urls': cfg.listenClientUrls,
    'advertise-client-urls': cfg.advertiseClientUrls,
  });
  const boot = await bootStorage(cfg, log);
  const server = new EtcdServer(cfg, log, boot, (err) => {
    log.fatal('stopping after a storage failure', { error: err.message });
    log.flush();
    process.exit(1);
  });
  const http = createHttpHandler(server, log);
  const grpc = new GrpcServer({
    maxReceiveMessageBytes: cfg.maxRequestBytes + GRPC_OVERHEAD_BYTES,
    onNonGrpcStream: (stream, headers) => serveHttp2Stream(http, stream, headers),
    ...(cfg.maxConcurrentStreams > 0 ? { maxConcurrentStreams: cfg.maxConcurrentStreams } : {}),
  });
  registerServices(grpc, server, cfg);
  await server.start();
  let listeners: ClientListener[];
  try {
    listeners = await listenClients(cfg.listenClientUrls, grpc, http, cfg.clientTls, log);
  } catch (err) {
    await server.stop();
    throw err;
  }
  log.info('ready to serve client requests');
  let closing: Promise<void> | undefined;
  return {
    server,
    clientPorts: listeners.map((l) => l.port),
    close: () => {
      closing ??= closeAll(server, listeners, log);
      return closing;
    },
  };
}

async function closeAll(server: EtcdServer, listeners: ClientListener[], log: Logger): Promise<void> {
  log.info('closing etcd server', { 'local-member-id': server.memberId.toString(16) });
  await Promise.all(listeners.map((l) => l.close(false).catch(() => undefined)));
  await server.stop();
  log.info('closed etcd server', { 'local-member-id': server.memberId.toString(16) });
}
