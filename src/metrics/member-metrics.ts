// One member's metrics: its own prom-client Registry (never the global default one,
// so members sharing a process -- the simulator, tests -- keep separate counts), the
// etcd 3.4 families in it, the observers the member's parts report to, and the
// rendering of /metrics. Values that are state (leader, sizes, revisions, versions)
// are read from the MetricsSource when scraped; events are counted as they happen.
import { collectDefaultMetrics, Registry } from 'prom-client';
import {
  diskFamilies,
  grpcFamilies,
  leaseFamilies,
  mvccFamilies,
  networkFamilies,
  serverFamilies,
} from './families.js';
import { GrpcMetrics } from './grpc-observer.js';
import { compactionObserver, memberObserver } from './member-observer.js';
import type { MetricsSource } from './source.js';
import type { StoreCounters } from './store-observer.js';

export type MetricsLevel = 'basic' | 'extensive';

export interface MemberMetricsOptions {
  /** 'extensive' adds grpc_server_handling_seconds (etcd's --metrics extensive). */
  level?: MetricsLevel;
  /** Node's process_* and nodejs_* collectors (default true; tests with many members may turn them off). */
  processMetrics?: boolean;
}

export class MemberMetrics {
  readonly registry = new Registry();
  readonly server = serverFamilies(this.registry);
  readonly disk = diskFamilies(this.registry);
  readonly mvcc = mvccFamilies(this.registry);
  readonly lease = leaseFamilies(this.registry);
  readonly network = networkFamilies(this.registry);
  readonly grpcFamilies;
  readonly grpc: GrpcMetrics;
  /** For EtcdServer's `observer` option: proposals, applies, read indexes, leases, peers. */
  readonly member = memberObserver(this.server, this.lease, this.network, this.mvcc, () =>
    this.source?.memberId(),
  );
  /** For MvccStore.setCompactionObserver. */
  readonly compaction = compactionObserver(this.mvcc);
  private source: MetricsSource | undefined;
  private lastLeader = 0n;

  constructor(options: MemberMetricsOptions = {}) {
    this.grpcFamilies = grpcFamilies(this.registry, options.level === 'extensive');
    this.grpc = new GrpcMetrics(this.grpcFamilies, this.network, this.server);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Where scrape-time values come from (the member, once it exists). */
  bindSource(source: MetricsSource): void {
    this.source = source;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of everything in this member's registry. */
  async render(): Promise<string> {
    this.refresh();
    return this.registry.metrics();
  }

  // ----------------------------------------------------------- observers

  /** The WAL's synced writes (Wal.syncObserver). */
  readonly walSynced = (seconds: number): void => {
    this.disk.walFsync.observe(seconds);
  };

  /** The backend's batch commits (MvccStore.setCommitObserver). */
  readonly backendCommitted = (seconds: number): void => {
    this.disk.backendCommit.observe(seconds);
  };

  /** Key-value operations as the store executed them (countStoreOps). */
  readonly storeOps: StoreCounters = {
    range: (n) => {
      for (const c of this.mvcc.range) c.inc(n);
    },
    put: (n, bytes) => {
      for (const c of this.mvcc.put) c.inc(n);
      this.mvcc.totalPutSize.inc(bytes);
    },
    delete: (n) => {
      for (const c of this.mvcc.delete) c.inc(n);
    },
    txn: () => {
      for (const c of this.mvcc.txn) c.inc();
    },
  };

  /** The member's known leader changed (NONE = 0n when lost); counted as etcd does: a new, known leader. */
  leaderChanged(leader: bigint): void {
    if (leader !== 0n && leader !== this.lastLeader) this.server.leaderChanges.inc();
    this.lastLeader = leader;
  }

  /** A /health check's outcome. */
  healthChecked(healthy: boolean): void {
    (healthy ? this.server.healthSuccess : this.server.healthFailures).inc();
  }

  // ----------------------------------------------------------- scrape

  private refresh(): void {
    this.grpc.publish();
    const s = this.source;
    if (s === undefined) return;
    const sv = this.server;
    sv.hasLeader.set(s.hasLeader() ? 1 : 0);
    sv.isLeader.set(s.isLeader() ? 1 : 0);
    sv.isLearner.set(s.isLearner() ? 1 : 0);
    sv.proposalsCommitted.set(s.committedIndex());
    sv.proposalsApplied.set(s.appliedIndex());
    sv.quotaBackendBytes.set(s.quotaBackendBytes());
    sv.serverId.reset();
    sv.serverId.set({ server_id: s.memberId().toString(16) }, 1);
    sv.currentVersion.reset();
    sv.currentVersion.set({ server_version: s.serverVersion() }, 1);
    const cv = s.clusterVersion();
    sv.clusterVersion.reset();
    if (cv !== undefined) sv.clusterVersion.set({ cluster_version: cv }, 1);
    const mv = this.mvcc;
    for (const g of mv.dbTotalSize) g.set(s.dbSizeBytes());
    mv.dbTotalSizeInUse.set(s.dbSizeInUseBytes());
    mv.currentRevision.set(s.currentRevision());
    mv.compactRevision.set(s.compactRevision());
    mv.keys.set(s.keysTotal());
    const w = s.watchCounts();
    mv.watchStreams.set(w.streams);
    mv.watchers.set(w.watchers);
    mv.slowWatchers.set(w.unsynced);
  }
}
