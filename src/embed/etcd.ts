// startEtcd: everything one member needs, wired together -- storage and raft
// (bootstrap.ts), the member (server.ts), the client API services on a gRPC
// server, and one shared gRPC/HTTP port per --listen-client-urls entry.

import { join } from 'node:path';
import { GrpcServer } from '../api/grpc/server.js';
import { JsonGateway } from '../api/http/gateway/index.js';
import { createV2Handler } from '../api/http/v2/index.js';
import type { ClientListener } from '../api/listener.js';
import { registerServices } from '../api/services/index.js';
import type { ServerConfig } from '../config/types.js';
import type { Logger } from '../log/types.js';
import { listenPeer, type PeerListener } from '../peer/listener.js';
import { bootStorage } from '../server/bootstrap.js';
import { Compactor, compactorPlan } from '../server/compactor.js';
import { acquireDataDirLock, type DataDirLock } from '../server/data-dir-lock.js';
import { EtcdServer, GRPC_OVERHEAD_BYTES } from '../server/server.js';
import {
  createClientTls,
  createServerTls,
  describeTls,
  type ServerTls,
  validateTlsFlags,
} from '../tls/index.js';
import { listenClients, logServing, parseListenUrl } from './client-listeners.js';
import { createHttpHandler, createMetricsHandler, type HttpExtras } from './http-handler.js';
import { bindMember, instrumentStorage, memberAlarms } from './metrics.js';
import { listenMetrics, type MetricsListener } from './metrics-listeners.js';

/** The peer port's TLS when any is configured (--peer-cert-file/--peer-key-file or --peer-auto-tls). */
async function peerServerTls(cfg: ServerConfig, log: Logger): Promise<ServerTls | undefined> {
  const t = cfg.peerTls;
  if (t.certFile === '' && t.keyFile === '' && !t.autoTls) return undefined;
  const tlsInfo = await createServerTls({
    side: 'peer',
    tls: t,
    cipherSuites: cfg.cipherSuites,
    log,
    autoTls: {
      dir: join(cfg.dataDir, 'fixtures', 'peer'),
      hosts: cfg.listenPeerUrls.map((u) => new URL(u).host),
    },
  });
  log.info('starting with peer TLS', {
    'tls-info': describeTls(tlsInfo.info),
    'cipher-suites': cfg.cipherSuites,
  });
  return tlsInfo;
}

async function listenPeers(
  cfg: ServerConfig,
  server: EtcdServer,
  log: Logger,
  tlsInfo: ServerTls | undefined,
): Promise<PeerListener[]> {
  const out: PeerListener[] = [];
  try {
    for (const u of cfg.listenPeerUrls) {
      const l = await listenPeer(u, server.peerRoutes(), tlsInfo);
      out.push(l);
      log.info('serving peer traffic', { address: `${new URL(u).hostname}:${l.port}` });
    }
  } catch (err) {
    await Promise.all(out.map((l) => l.close()));
    throw err;
  }
  return out;
}

/** How long in-flight client calls may take to finish on shutdown before connections are cut. */
const SHUTDOWN_GRACE_MS = 1000;

export interface RunningEtcd {
  readonly server: EtcdServer;
  /** Ports actually bound, in --listen-client-urls order (useful with port 0). */
  readonly clientPorts: number[];
  /** Ports actually bound, in --listen-peer-urls order. */
  readonly peerPorts: number[];
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
  // Bad TLS flags fail before anything is created, as etcd's do.
  validateTlsFlags(cfg);
  // Before anything in the data dir is opened or created: a second process on
  // the same dir must stop here, having touched nothing.
  const lock = await acquireDataDirLock(cfg.dataDir);
  if (!lock.enforced) {
    log.warn('data dir lock not enforced on this platform: nothing stops a second process on it', {
      platform: process.platform,
    });
  }
  try {
    return await startLocked(cfg, log, lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function startLocked(cfg: ServerConfig, log: Logger, lock: DataDirLock): Promise<RunningEtcd> {
  const peerTls = await peerServerTls(cfg, log);
  const peerDial = peerTls === undefined ? undefined : createClientTls(peerTls.info, log);
  const dialTls = peerDial === undefined ? undefined : (host: string) => peerDial.options(host);
  const boot = await bootStorage(cfg, log, { timeoutMs: 10_000, ...(dialTls ? { tls: dialTls } : {}) });
  const memberMetrics = instrumentStorage(cfg, boot);
  const server = new EtcdServer(
    cfg,
    log,
    boot,
    (err) => {
      log.fatal('stopping after a storage failure', { error: err.message });
      log.flush();
      process.exit(1);
    },
    { observer: memberMetrics.member, ...(dialTls === undefined ? {} : { peerTls: dialTls }) },
  );
  bindMember(memberMetrics, server, cfg);
  const httpExtras: HttpExtras = { metrics: memberMetrics, alarms: memberAlarms(server) };
  // The JSON gateway calls the same services as the gRPC server (registered on both below).
  const gateway = cfg.enableGrpcGateway
    ? new JsonGateway({ maxRequestBytes: cfg.maxRequestBytes + GRPC_OVERHEAD_BYTES })
    : undefined;
  const http = createHttpHandler(
    server.health,
    log,
    cfg.enableV2 ? createV2Handler(server.v2, log) : undefined,
    gateway?.handle,
    httpExtras,
  );
  const grpc = new GrpcServer({
    maxReceiveMessageBytes: cfg.maxRequestBytes + GRPC_OVERHEAD_BYTES,
    http2Fallback: http,
    observeCall: memberMetrics.grpc.observe,
    ...(cfg.maxConcurrentStreams > 0 ? { maxConcurrentStreams: cfg.maxConcurrentStreams } : {}),
  });
  registerServices(grpc, server, cfg);
  if (gateway !== undefined) registerServices(gateway.services, server, cfg);
  // etcd checks a restarted member's data against its peers before serving anything.
  try {
    await server.initialCorruptCheck();
  } catch (err) {
    await server.stop();
    throw err;
  }
  // Peers first: a member of a multi-member cluster cannot be ready (publish
  // itself through raft) before the others can reach it.
  let peers: PeerListener[];
  try {
    peers = await listenPeers(cfg, server, log, peerTls);
  } catch (err) {
    await server.stop();
    throw err;
  }
  try {
    await server.start();
  } catch (err) {
    await Promise.all(peers.map((p) => p.close()));
    throw err;
  }
  let listeners: ClientListener[];
  try {
    listeners = await listenClients(cfg.listenClientUrls, grpc, http, {
      tls: cfg.clientTls,
      cipherSuites: cfg.cipherSuites,
      dataDir: cfg.dataDir,
      log,
    });
  } catch (err) {
    await Promise.all(peers.map((p) => p.close()));
    await server.stop();
    throw err;
  }
  let metrics: MetricsListener[];
  try {
    const metricsHandler = createMetricsHandler(server.health, log, httpExtras);
    metrics = await listenMetrics(cfg.listenMetricsUrls, metricsHandler, cfg.clientTls, log);
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close(true)));
    await Promise.all(peers.map((p) => p.close()));
    await server.stop();
    throw err;
  }
  const compactor = new Compactor(
    compactorPlan(cfg.autoCompactionMode, cfg.autoCompactionRetention),
    {
      currentRevision: () => server.currentRevision(),
      onLeadership: (listener) => server.state.onLeadership(listener),
      compact: (revision) => server.compact(revision),
    },
    log,
    server.clock,
  );
  compactor.start(server.state.isLeader);
  log.info('ready to serve client requests');
  listeners.forEach((l, i) => {
    const t = parseListenUrl(cfg.listenClientUrls[i] ?? '');
    logServing(log, cfg.logger, t.secure, `${t.host}:${l.port}`);
  });
  let closing: Promise<void> | undefined;
  return {
    server,
    clientPorts: listeners.map((l) => l.port),
    peerPorts: peers.map((p) => p.port),
    close: () => {
      compactor.stop();
      closing ??= closeAll(server, listeners, metrics, peers, log).finally(() => lock.release());
      return closing;
    },
  };
}

async function closeAll(
  server: EtcdServer,
  listeners: ClientListener[],
  metrics: MetricsListener[],
  peers: PeerListener[],
  log: Logger,
): Promise<void> {
  log.info('closing etcd server', { 'local-member-id': server.memberId.toString(16) });
  // Connected clients get a grace period to finish their calls; idle
  // connections (a client that simply stays connected) must not keep the
  // member from stopping, so they are cut when it ends.
  const graceful = Promise.all(listeners.map((l) => l.close(false).catch(() => undefined)));
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), SHUTDOWN_GRACE_MS);
  });
  if (await Promise.race([graceful.then(() => false), expired])) {
    log.warn('closing client connections that outlived the shutdown grace period', {
      'grace-ms': SHUTDOWN_GRACE_MS,
    });
    await Promise.all(listeners.map((l) => l.close(true).catch(() => undefined)));
  }
  clearTimeout(timer);
  await Promise.all(metrics.map((l) => l.close()));
  await server.stop();
  await Promise.all(peers.map((p) => p.close()));
  log.info('closed etcd server', { 'local-member-id': server.memberId.toString(16) });
}
