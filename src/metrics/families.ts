// etcd 3.4's metric families (names, types, label names, help texts and buckets as a
// running etcd 3.4.23 exposes them), created in one member's own registry. Families that
// etcd keeps as "debugging" duplicates are created as separate metrics and moved together.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DEFAULT_BUCKETS, exponentialBuckets } from './buckets.js';
import { PeerByteTally } from './peer-byte-tally.js';

/** Go's prometheus.ExponentialBuckets(0.001, 2, 14): 1 ms … 8.192 s, etcd's disk latency buckets. */
const DISK_BUCKETS = exponentialBuckets(0.001, 2, 14);

function makers(registry: Registry) {
  const registers = [registry];
  return {
    counter: <L extends string = never>(
      name: string,
      help: string,
      labelNames: readonly L[] = [],
      collect?: (this: Counter<L>) => void,
    ) => new Counter<L>({ name, help, labelNames, registers, ...(collect ? { collect } : {}) }),
    gauge: <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers }),
    histogram: <L extends string = never>(
      name: string,
      help: string,
      buckets: number[],
      labelNames: readonly L[] = [],
    ) => new Histogram<L>({ name, help, buckets, labelNames, registers }),
  };
}

export function serverFamilies(registry: Registry) {
  const { counter, gauge } = makers(registry);
  return {
    hasLeader: gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.'),
    isLeader: gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.'),
    isLearner: gauge(
      'etcd_server_is_learner',
      'Whether or not this member is a learner. 1 if is, 0 otherwise.',
    ),
    leaderChanges: counter('etcd_server_leader_changes_seen_total', 'The number of leader changes seen.'),
    heartbeatSendFailures: counter(
      'etcd_server_heartbeat_send_failures_total',
      'The total number of leader heartbeat send failures (likely overloaded from slow disk).',
    ),
    slowApply: counter(
      'etcd_server_slow_apply_total',
      'The total number of slow apply requests (likely overloaded from slow disk).',
    ),
    proposalsCommitted: gauge(
      'etcd_server_proposals_committed_total',
      'The total number of consensus proposals committed.',
    ),
    proposalsApplied: gauge(
      'etcd_server_proposals_applied_total',
      'The total number of consensus proposals applied.',
    ),
    proposalsPending: gauge(
      'etcd_server_proposals_pending',
      'The current number of pending proposals to commit.',
    ),
    proposalsFailed: counter(
      'etcd_server_proposals_failed_total',
      'The total number of failed proposals seen.',
    ),
    slowReadIndexes: counter(
      'etcd_server_slow_read_indexes_total',
      "The total number of pending read indexes not in sync with leader's or timed out read index requests.",
    ),
    readIndexFailed: counter(
      'etcd_server_read_indexes_failed_total',
      'The total number of failed read indexes seen.',
    ),
    leaseExpired: counter('etcd_debugging_server_lease_expired_total', 'The total number of expired leases.'),
    quotaBackendBytes: gauge(
      'etcd_server_quota_backend_bytes',
      'Current backend storage quota size in bytes.',
    ),
    currentVersion: gauge(
      'etcd_server_version',
      "Which version is running. 1 for 'server_version' label with current version.",
      ['server_version'],
    ),
    serverId: gauge(
      'etcd_server_id',
      "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.",
      ['server_id'],
    ),
    clusterVersion: gauge(
      'etcd_cluster_version',
      "Which version is running. 1 for 'cluster_version' label with current cluster version",
      ['cluster_version'],
    ),
    learnerPromoteSucceed: counter(
      'etcd_server_learner_promote_successes',
      'The total number of successful learner promotions while this member is leader.',
    ),
    snapshotApplyInProgress: gauge(
      'etcd_server_snapshot_apply_in_progress_total',
      '1 if the server is applying the incoming snapshot. 0 if none.',
    ),
    healthSuccess: counter('etcd_server_health_success', 'The total number of successful health checks'),
    healthFailures: counter('etcd_server_health_failures', 'The total number of failed health checks'),
    clientRequests: counter(
      'etcd_server_client_requests_total',
      'The total number of client requests per client version.',
      ['type', 'client_api_version'],
    ),
  };
}

export function diskFamilies(registry: Registry) {
  const { gauge, histogram } = makers(registry);
  return {
    walFsync: histogram(
      'etcd_disk_wal_fsync_duration_seconds',
      'The latency distributions of fsync called by WAL.',
      DISK_BUCKETS,
    ),
    walWriteBytes: gauge('etcd_disk_wal_write_bytes_total', 'Total number of bytes written in WAL.'),
    backendCommit: histogram(
      'etcd_disk_backend_commit_duration_seconds',
      'The latency distributions of commit called by backend.',
      DISK_BUCKETS,
    ),
    backendDefrag: histogram(
      'etcd_disk_backend_defrag_duration_seconds',
      'The latency distribution of backend defragmentation.',
      exponentialBuckets(0.1, 2, 13),
    ),
    backendSnapshot: histogram(
      'etcd_disk_backend_snapshot_duration_seconds',
      'The latency distribution of backend snapshots.',
      exponentialBuckets(0.01, 2, 17),
    ),
    defragInflight: gauge(
      'etcd_disk_defrag_inflight',
      'Whether or not defrag is active on the member. 1 means active, 0 means not.',
    ),
    snapDbFsync: histogram(
      'etcd_snap_db_fsync_duration_seconds',
      'The latency distributions of fsyncing .snap.db file',
      DISK_BUCKETS,
    ),
    snapDbSave: histogram(
      'etcd_snap_db_save_total_duration_seconds',
      'The total latency distributions of v3 snapshot save',
      exponentialBuckets(0.1, 2, 10),
    ),
    snapFsync: histogram(
      'etcd_snap_fsync_duration_seconds',
      'The latency distributions of fsync called by snap.',
      DISK_BUCKETS,
    ),
  };
}

/** etcd_mvcc_* with their etcd_debugging_mvcc_* twins (3.4 moves both). */
export function mvccFamilies(registry: Registry) {
  const { counter, gauge, histogram } = makers(registry);
  const pair = (suffix: string, help: string) => [
    counter(`etcd_mvcc_${suffix}`, help),
    counter(`etcd_debugging_mvcc_${suffix}`, help),
  ];
  return {
    range: pair('range_total', 'Total number of ranges seen by this member.'),
    put: pair('put_total', 'Total number of puts seen by this member.'),
    delete: pair('delete_total', 'Total number of deletes seen by this member.'),
    txn: pair('txn_total', 'Total number of txns seen by this member.'),
    totalPutSize: gauge(
      'etcd_debugging_mvcc_total_put_size_in_bytes',
      'The total size of put kv pairs seen by this member.',
    ),
    keys: gauge('etcd_debugging_mvcc_keys_total', 'Total number of keys.'),
    watchStreams: gauge('etcd_debugging_mvcc_watch_stream_total', 'Total number of watch streams.'),
    watchers: gauge('etcd_debugging_mvcc_watcher_total', 'Total number of watchers.'),
    slowWatchers: gauge('etcd_debugging_mvcc_slow_watcher_total', 'Total number of unsynced slow watchers.'),
    // Moved by the watch API as it sends events (etcd's v3rpc calls mvcc.ReportEventReceived).
    events: counter('etcd_debugging_mvcc_events_total', 'Total number of events sent by this member.'),
    pendingEvents: gauge(
      'etcd_debugging_mvcc_pending_events_total',
      'Total number of pending events to be sent.',
    ),
    indexCompactionPause: histogram(
      'etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds',
      'Bucketed histogram of index compaction pause duration.',
      exponentialBuckets(0.5, 2, 14),
    ),
    dbCompactionPause: histogram(
      'etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds',
      'Bucketed histogram of db compaction pause duration.',
      exponentialBuckets(1, 2, 13),
    ),
    dbCompactionTotal: histogram(
      'etcd_debugging_mvcc_db_compaction_total_duration_milliseconds',
      'Bucketed histogram of db compaction total duration.',
      exponentialBuckets(100, 2, 14),
    ),
    dbCompactionKeys: counter(
      'etcd_debugging_mvcc_db_compaction_keys_total',
      'Total number of db keys compacted.',
    ),
    dbTotalSize: [
      gauge(
        'etcd_mvcc_db_total_size_in_bytes',
        'Total size of the underlying database physically allocated in bytes.',
      ),
      gauge(
        'etcd_debugging_mvcc_db_total_size_in_bytes',
        'Total size of the underlying database physically allocated in bytes.',
      ),
    ],
    dbTotalSizeInUse: gauge(
      'etcd_mvcc_db_total_size_in_use_in_bytes',
      'Total size of the underlying database logically in use in bytes.',
    ),
    dbOpenReadTxns: gauge(
      'etcd_mvcc_db_open_read_transactions',
      'The number of currently open read transactions',
    ),
    currentRevision: gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.'),
    compactRevision: gauge(
      'etcd_debugging_mvcc_compact_revision',
      'The revision of the last compaction in store.',
    ),
    hash: histogram(
      'etcd_mvcc_hash_duration_seconds',
      'The latency distribution of storage hash operation.',
      exponentialBuckets(0.01, 2, 15),
    ),
    hashRev: histogram(
      'etcd_mvcc_hash_rev_duration_seconds',
      'The latency distribution of storage hash by revision operation.',
      exponentialBuckets(0.01, 2, 15),
    ),
  };
}

export function leaseFamilies(registry: Registry) {
  const { counter, histogram } = makers(registry);
  return {
    granted: counter('etcd_debugging_lease_granted_total', 'The total number of granted leases.'),
    revoked: counter('etcd_debugging_lease_revoked_total', 'The total number of revoked leases.'),
    renewed: counter(
      'etcd_debugging_lease_renewed_total',
      'The number of renewed leases seen by the leader.',
    ),
    ttl: histogram(
      'etcd_debugging_lease_ttl_total',
      'Bucketed histogram of lease TTLs.',
      exponentialBuckets(1, 2, 24),
    ),
  };
}

/** rafthttp's families: per-peer label values are hexadecimal member ids, as etcd's. */
export function networkFamilies(registry: Registry) {
  const { counter, gauge, histogram } = makers(registry);
  const sentTally = new PeerByteTally();
  const receivedTally = new PeerByteTally();
  return {
    /** Bytes sent per peer, added to peerSentBytes when it is read. */
    peerSentTally: sentTally,
    /** Bytes received per peer, added to peerReceivedBytes when it is read. */
    peerReceivedTally: receivedTally,
    activePeers: gauge('etcd_network_active_peers', 'The current number of active peer connections.', [
      'Local',
      'Remote',
    ]),
    disconnectedPeers: counter(
      'etcd_network_disconnected_peers_total',
      'The total number of disconnected peers.',
      ['Local', 'Remote'],
    ),
    peerSentBytes: counter(
      'etcd_network_peer_sent_bytes_total',
      'The total number of bytes sent to peers.',
      ['To'],
      function () {
        sentTally.drain((peer, bytes) => this.inc({ To: peer }, bytes));
      },
    ),
    peerReceivedBytes: counter(
      'etcd_network_peer_received_bytes_total',
      'The total number of bytes received from peers.',
      ['From'],
      function () {
        receivedTally.drain((peer, bytes) => this.inc({ From: peer }, bytes));
      },
    ),
    peerSentFailures: counter(
      'etcd_network_peer_sent_failures_total',
      'The total number of send failures from peers.',
      ['To'],
    ),
    peerReceivedFailures: counter(
      'etcd_network_peer_received_failures_total',
      'The total number of receive failures from peers.',
      ['From'],
    ),
    peerRoundTrip: histogram(
      'etcd_network_peer_round_trip_time_seconds',
      'Round-Trip-Time histogram between peers',
      exponentialBuckets(0.0001, 2, 16),
      ['To'],
    ),
    snapshotSend: counter('etcd_network_snapshot_send_success', 'Total number of successful snapshot sends', [
      'To',
    ]),
    snapshotSendInflights: gauge(
      'etcd_network_snapshot_send_inflights_total',
      'Total number of inflight snapshot sends',
      ['To'],
    ),
    snapshotSendFailures: counter(
      'etcd_network_snapshot_send_failures',
      'Total number of snapshot send failures',
      ['To'],
    ),
    snapshotSendSeconds: histogram(
      'etcd_network_snapshot_send_total_duration_seconds',
      'Total latency distributions of v3 snapshot sends',
      exponentialBuckets(0.1, 2, 10),
      ['To'],
    ),
    snapshotReceive: counter(
      'etcd_network_snapshot_receive_success',
      'Total number of successful snapshot receives',
      ['From'],
    ),
    snapshotReceiveInflights: gauge(
      'etcd_network_snapshot_receive_inflights_total',
      'Total number of inflight snapshot receives',
      ['From'],
    ),
    snapshotReceiveFailures: counter(
      'etcd_network_snapshot_receive_failures',
      'Total number of snapshot receive failures',
      ['From'],
    ),
    snapshotReceiveSeconds: histogram(
      'etcd_network_snapshot_receive_total_duration_seconds',
      'Total latency distributions of v3 snapshot receives',
      exponentialBuckets(0.1, 2, 10),
      ['From'],
    ),
    clientGrpcSentBytes: counter(
      'etcd_network_client_grpc_sent_bytes_total',
      'The total number of bytes sent to grpc clients.',
    ),
    clientGrpcReceivedBytes: counter(
      'etcd_network_client_grpc_received_bytes_total',
      'The total number of bytes received from grpc clients.',
    ),
  };
}

const GRPC_LABELS = ['grpc_type', 'grpc_service', 'grpc_method'] as const;

/** go-grpc-prometheus's server families; the handling-time histogram only with --metrics extensive. */
export function grpcFamilies(registry: Registry, extensive: boolean) {
  const { counter, histogram } = makers(registry);
  return {
    started: counter('grpc_server_started_total', 'Total number of RPCs started on the server.', GRPC_LABELS),
    handled: counter(
      'grpc_server_handled_total',
      'Total number of RPCs completed on the server, regardless of success or failure.',
      [...GRPC_LABELS, 'grpc_code'],
    ),
    msgReceived: counter(
      'grpc_server_msg_received_total',
      'Total number of RPC stream messages received on the server.',
      GRPC_LABELS,
    ),
    msgSent: counter(
      'grpc_server_msg_sent_total',
      'Total number of gRPC stream messages sent by the server.',
      GRPC_LABELS,
    ),
    handlingSeconds: extensive
      ? histogram(
          'grpc_server_handling_seconds',
          'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
          DEFAULT_BUCKETS,
          GRPC_LABELS,
        )
      : undefined,
  };
}

export type ServerFamilies = ReturnType<typeof serverFamilies>;
export type DiskFamilies = ReturnType<typeof diskFamilies>;
export type MvccFamilies = ReturnType<typeof mvccFamilies>;
export type LeaseFamilies = ReturnType<typeof leaseFamilies>;
export type NetworkFamilies = ReturnType<typeof networkFamilies>;
export type GrpcFamilies = ReturnType<typeof grpcFamilies>;
