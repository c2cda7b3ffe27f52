// The member's metrics, wired: a MemberMetrics per member (its own registry), the
// observers attached to the storage it boots on (WAL syncs, backend commits, key-value
// operations), and the member's state read at scrape time. The composition root
// (etcd.ts) calls these; the core modules only see plain callbacks.
import type { ActiveAlarm } from '../api/http/index.js';
import type { ServerConfig } from '../config/types.js';
import { effectiveQuotaBackendBytes } from '../config/types.js';
import { ETCD_SERVER_VERSION } from '../config/version.js';
import { countStoreOps, MemberMetrics, type MetricsSource } from '../metrics/index.js';
import type { MvccStore } from '../mvcc/store.js';
import { AlarmRequest_AlarmAction, AlarmType } from '../pb/etcdserverpb/rpc.js';
import type { BootedStorage } from '../server/bootstrap.js';
import { MemberWatch } from '../server/member-watch.js';
import type { EtcdServer } from '../server/server.js';

export function metricsLevel(cfg: Pick<ServerConfig, 'metrics'>): 'basic' | 'extensive' {
  return cfg.metrics === 'extensive' ? 'extensive' : 'basic';
}

/**
 * Creates the member's metrics and attaches them to the storage it booted: the WAL and
 * the backend report their syncs, commits and compactions, and `boot.backend` is replaced by
 * a view of the same store that counts ranges, puts, deletes and txns. The member's own
 * events (proposals, leases, peers...) reach `metrics.member`, passed to the EtcdServer.
 */
export function instrumentStorage(cfg: ServerConfig, boot: BootedStorage): MemberMetrics {
  const metrics = new MemberMetrics({ level: metricsLevel(cfg) });
  boot.wal.syncObserver = metrics.walSynced;
  boot.backend.setCommitObserver(metrics.backendCommitted);
  boot.backend.setCompactionObserver(metrics.compaction);
  const raw = boot.backend;
  boot.backend = countStoreOps(raw, metrics.storeOps);
  rawStores.set(metrics, raw);
  return metrics;
}

/** The uncounted store, for the scrape's own reads (they must not count as client ranges). */
const rawStores = new WeakMap<MemberMetrics, MvccStore>();

const ALL_KEYS = { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]), countOnly: true };

/** Reads the member's state at scrape time and follows its leader changes. */
export function bindMember(metrics: MemberMetrics, server: EtcdServer, cfg: ServerConfig): void {
  const store = rawStores.get(metrics);
  const watch = server.watch instanceof MemberWatch ? server.watch : undefined;
  const source: MetricsSource = {
    memberId: () => server.memberId,
    serverVersion: () => ETCD_SERVER_VERSION,
    clusterVersion: () => majorMinor(server.health.clusterVersion()),
    hasLeader: () => server.health.hasLeader(),
    isLeader: () => server.health.isLeader(),
    isLearner: () => server.health.isLearner(),
    committedIndex: () => server.health.status().raftIndex,
    appliedIndex: () => server.health.status().raftAppliedIndex,
    dbSizeBytes: () => server.health.status().dbSize,
    dbSizeInUseBytes: () => server.health.status().dbSizeInUse,
    currentRevision: () => server.currentRevision(),
    compactRevision: () => store?.compactedRevision() ?? -1,
    quotaBackendBytes: () => effectiveQuotaBackendBytes(cfg),
    keysTotal: () => store?.range(ALL_KEYS).count ?? 0,
    watchCounts: () => {
      const st = watch?.hub.stats();
      return { streams: st?.streams ?? 0, watchers: st?.watchers ?? 0, unsynced: st?.unsynced ?? 0 };
    },
  };
  metrics.bindSource(source);
  server.state.onLeaderChange((leader) => metrics.leaderChanged(leader));
}

function majorMinor(version: string | undefined): string | undefined {
  if (version === undefined) return undefined;
  return version.split('.').slice(0, 2).join('.');
}

/** The member's active alarms as /health checks them (etcd's local alarm list). */
export function memberAlarms(server: EtcdServer): () => Promise<ActiveAlarm[]> {
  return async () => {
    const res = await server.maintenance.alarm({
      action: AlarmRequest_AlarmAction.GET,
      memberID: 0n,
      alarm: AlarmType.NONE,
    });
    return res.alarms.map((a) => ({ memberId: a.memberID, alarm: AlarmType[a.alarm] ?? String(a.alarm) }));
  };
}
