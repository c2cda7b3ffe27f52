// What the client API asks of a member, one narrow interface per service.
// src/api depends on these, never on the EtcdServer class; the member offers
// one object per port (EtcdServer.kv, .cluster, ...). Requests and responses
// are the generated wire messages: one shape per message at the boundary.
import type {
  AlarmRequest,
  AlarmResponse,
  CompactionRequest,
  CompactionResponse,
  DefragmentResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  HashKVResponse,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  StatusResponse,
  TxnRequest,
  TxnResponse,
} from '../pb/etcdserverpb/rpc.js';
import type { OpenStreamOptions, WatchStream } from '../watch/index.js';
import type { Member } from './membership.js';

export interface KvPort {
  range(req: RangeRequest): Promise<RangeResponse>;
  put(req: PutRequest): Promise<PutResponse>;
  deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse>;
  txn(req: TxnRequest): Promise<TxnResponse>;
  compact(req: CompactionRequest): Promise<CompactionResponse>;
}

export interface ClusterPort {
  members(): Member[];
  /** Cluster id, member id and raft term (etcd's Cluster service sets no revision). */
  header(): ResponseHeader;
  add(peerUrls: string[], isLearner: boolean): Promise<{ member: Member; members: Member[] }>;
  remove(id: bigint): Promise<Member[]>;
  update(id: bigint, peerUrls: string[]): Promise<Member[]>;
  promote(id: bigint): Promise<Member[]>;
}

export interface MaintenancePort {
  status(): StatusResponse;
  defragment(): Promise<DefragmentResponse>;
  hashKV(revision: number): Promise<HashKVResponse>;
  alarm(req: AlarmRequest): Promise<AlarmResponse>;
  /** Writes a consistent copy of the backend to `path` (for Maintenance.Snapshot). */
  snapshotTo(path: string): Promise<void>;
  /** Hands leadership to `target` (this member must lead); resolves once it leads. */
  moveLeader(target: bigint): Promise<void>;
  /** A header at the current revision. */
  header(): ResponseHeader;
}

export interface LeasePort {
  grant(req: LeaseGrantRequest): Promise<LeaseGrantResponse>;
  revoke(req: LeaseRevokeRequest): Promise<LeaseRevokeResponse>;
  /** One keep-alive: the lease's TTL, or TTL 0 when it does not exist (etcd's stream answer). */
  keepAlive(id: bigint): Promise<LeaseKeepAliveResponse>;
  /** TTL -1 when the lease does not exist, as etcd answers. */
  timeToLive(req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse>;
  leases(): Promise<LeaseLeasesResponse>;
}

/**
 * Watch streams: the Watch service opens one per gRPC call and pulls the
 * stream's responses (headers are added from `state`).
 */
export interface WatchPort {
  openStream(opts?: OpenStreamOptions): WatchStream;
  /** Catch lagging watchers up soon (a stream drained, or a watcher starts in the past). */
  catchUpSoon(): void;
  header(revision: number): ResponseHeader;
}

/** Liveness as /health, the gRPC health service and /metrics see it. */
export interface HealthPort {
  hasLeader(): boolean;
  isLeader(): boolean;
  /** This member is a learner (etcd refuses most RPCs on learners). */
  isLearner(): boolean;
  /** Calls `listener` when the member gains or loses a leader; returns an unsubscribe. */
  onLeaderChange(listener: (hasLeader: boolean) => void): () => void;
  /** Resolves true if a linearizable read completes within `timeoutMs`. */
  probe(timeoutMs: number): Promise<boolean>;
  /** The cluster version once this member has published itself, else undefined. */
  clusterVersion(): string | undefined;
  status(): StatusResponse;
}
