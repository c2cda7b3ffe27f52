// What the member's metrics read at scrape time: plain values of the member's
// state, so src/metrics depends on no server class (the embed adapts the member).

export interface WatchCounts {
  streams: number;
  watchers: number;
  /** Watchers behind the store's revision (etcd's "slow" unsynced watchers). */
  unsynced: number;
}

export interface MetricsSource {
  memberId(): bigint;
  serverVersion(): string;
  /** Major.minor cluster version once decided. */
  clusterVersion(): string | undefined;
  hasLeader(): boolean;
  isLeader(): boolean;
  isLearner(): boolean;
  committedIndex(): number;
  appliedIndex(): number;
  dbSizeBytes(): number;
  dbSizeInUseBytes(): number;
  currentRevision(): number;
  /** -1 before the first compaction, as etcd reports it. */
  compactRevision(): number;
  quotaBackendBytes(): number;
  keysTotal(): number;
  watchCounts(): WatchCounts;
}
