// What the client API asks of a member, one narrow interface per service.
// src/api depends on these, never on the EtcdServer class; the member offers
// one object per port (EtcdServer.kv, .cluster, ...). Requests and responses
// are the generated wire messages: one shape per message at the boundary.
import type { Writable } from 'node:stream';
import type { AuthInfo } from '../auth/index.js';
import type {
  AlarmRequest,
  AlarmResponse,
  AuthDisableResponse,
  AuthEnableResponse,
  AuthenticateRequest,
  AuthenticateResponse,
  AuthRoleAddRequest,
  AuthRoleAddResponse,
  AuthRoleDeleteRequest,
  AuthRoleDeleteResponse,
  AuthRoleGetRequest,
  AuthRoleGetResponse,
  AuthRoleGrantPermissionRequest,
  AuthRoleGrantPermissionResponse,
  AuthRoleListResponse,
  AuthRoleRevokePermissionRequest,
  AuthRoleRevokePermissionResponse,
  AuthUserAddRequest,
  AuthUserAddResponse,
  AuthUserChangePasswordRequest,
  AuthUserChangePasswordResponse,
  AuthUserDeleteRequest,
  AuthUserDeleteResponse,
  AuthUserGetRequest,
  AuthUserGetResponse,
  AuthUserGrantRoleRequest,
  AuthUserGrantRoleResponse,
  AuthUserListResponse,
  AuthUserRevokeRoleRequest,
  AuthUserRevokeRoleResponse,
  CompactionRequest,
  CompactionResponse,
  DefragmentResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  HashKVResponse,
  HashResponse,
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

/**
 * `who` on a request: the caller's credentials (AuthPort.identify), undefined
 * for none. Writes carry it through raft, where the auth stage checks it.
 */
export interface KvPort {
  range(req: RangeRequest, who?: AuthInfo): Promise<RangeResponse>;
  put(req: PutRequest, who?: AuthInfo): Promise<PutResponse>;
  deleteRange(req: DeleteRangeRequest, who?: AuthInfo): Promise<DeleteRangeResponse>;
  txn(req: TxnRequest, who?: AuthInfo): Promise<TxnResponse>;
  compact(req: CompactionRequest, who?: AuthInfo): Promise<CompactionResponse>;
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
  /** etcd's Hash: CRC-32C of the whole backend in etcd's bucket layout (etcd-db/hash.ts). */
  hash(): Promise<HashResponse>;
  hashKV(revision: number): Promise<HashKVResponse>;
  alarm(req: AlarmRequest): Promise<AlarmResponse>;
  /**
   * Streams a point-in-time copy of the backend as etcd 3.4's db file (a bbolt database, no
   * sha256 trailer) to `out`, which is left open; `onSize` learns the byte count before the first
   * byte. Writes go on meanwhile. Resolves with the size and sha256 of what was written.
   */
  snapshot(out: Writable, onSize: (bytes: number) => void): Promise<{ size: number; sha256: Uint8Array }>;
  /** Hands leadership to `target` (this member must lead); resolves once it leads. */
  moveLeader(target: bigint): Promise<void>;
  /** A header at the current revision. */
  header(): ResponseHeader;
}

export interface LeasePort {
  grant(req: LeaseGrantRequest, who?: AuthInfo): Promise<LeaseGrantResponse>;
  revoke(req: LeaseRevokeRequest, who?: AuthInfo): Promise<LeaseRevokeResponse>;
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
  /** The API sent `count` events to a watch client (etcd's ReportEventReceived; metrics). */
  eventsSent?(count: number): void;
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

/** etcd 3.5's AuthStatus answer (3.4 has no such RPC). */
export interface AuthStatus {
  header: ResponseHeader;
  enabled: boolean;
  authRevision: number;
}

/**
 * Authentication and authorization (etcd's AuthStore as the API sees it).
 * `who` is the caller as identify() found it (undefined: no credentials).
 * Failures are AuthErrors or ServerErrors; the services translate them.
 */
export interface AuthPort {
  /**
   * Who a call's credentials stand for: its token (refused with "invalid auth
   * token" when it is not valid here), else the common name of its verified
   * client certificate, else nobody.
   */
  identify(creds: {
    token?: string | undefined;
    commonName?: string | undefined;
  }): Promise<AuthInfo | undefined>;
  /** Auth is enabled (applied state of this member). */
  isEnabled(): boolean;
  /** Throws unless auth is off or `who` holds the root role (etcd's IsAdminPermitted). */
  checkAdmin(who: AuthInfo | undefined): void;
  /** Throws unless `who` may watch [key, rangeEnd). */
  checkWatch(who: AuthInfo | undefined, key: Uint8Array, rangeEnd: Uint8Array): void;
  authEnable(who?: AuthInfo): Promise<AuthEnableResponse>;
  authDisable(who?: AuthInfo): Promise<AuthDisableResponse>;
  authStatus(): Promise<AuthStatus>;
  /** Checks the password first; `identify` runs afterwards, as etcd resolves the caller's token only to propose. */
  authenticate(
    req: AuthenticateRequest,
    identify: () => Promise<AuthInfo | undefined>,
  ): Promise<AuthenticateResponse>;
  userAdd(req: AuthUserAddRequest, who?: AuthInfo): Promise<AuthUserAddResponse>;
  userGet(req: AuthUserGetRequest, who?: AuthInfo): Promise<AuthUserGetResponse>;
  userList(who?: AuthInfo): Promise<AuthUserListResponse>;
  userDelete(req: AuthUserDeleteRequest, who?: AuthInfo): Promise<AuthUserDeleteResponse>;
  userChangePassword(
    req: AuthUserChangePasswordRequest,
    who?: AuthInfo,
  ): Promise<AuthUserChangePasswordResponse>;
  userGrantRole(req: AuthUserGrantRoleRequest, who?: AuthInfo): Promise<AuthUserGrantRoleResponse>;
  userRevokeRole(req: AuthUserRevokeRoleRequest, who?: AuthInfo): Promise<AuthUserRevokeRoleResponse>;
  roleAdd(req: AuthRoleAddRequest, who?: AuthInfo): Promise<AuthRoleAddResponse>;
  roleGet(req: AuthRoleGetRequest, who?: AuthInfo): Promise<AuthRoleGetResponse>;
  roleList(who?: AuthInfo): Promise<AuthRoleListResponse>;
  roleDelete(req: AuthRoleDeleteRequest, who?: AuthInfo): Promise<AuthRoleDeleteResponse>;
  roleGrantPermission(
    req: AuthRoleGrantPermissionRequest,
    who?: AuthInfo,
  ): Promise<AuthRoleGrantPermissionResponse>;
  roleRevokePermission(
    req: AuthRoleRevokePermissionRequest,
    who?: AuthInfo,
  ): Promise<AuthRoleRevokePermissionResponse>;
}
