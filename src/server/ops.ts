// The requests a member proposes through raft and what applying each returns.
// One table (OpRequests / OpResults) ties a proposal's kind to its request and
// its result, so proposing `{ kind: 'put', req }` is typed to yield a
// PutResult all the way from the proposer through the applier and back.
import type { AuthInfo, AuthOp, AuthOutcome } from '../auth/index.js';
import type { CompactResult, DeleteRangeResult, PutResult, TxnResult } from '../mvcc/types.js';
import type {
  AlarmMember,
  AlarmRequest,
  CompactionRequest,
  DeleteRangeRequest,
  LeaseGrantRequest,
  LeaseRevokeRequest,
  PutRequest,
  TxnRequest,
} from '../pb/etcdserverpb/rpc.js';
import type { ConfChange } from '../raft/types.js';
import type { V2ApplyResult } from '../v2store/index.js';
import type { MemberRecord } from './member-json.js';
import type { V2Request } from './v2/request.js';

/** A member publishing its name and client URLs (etcd 3.4: a v2 PUT of /0/members/<id>/attributes). */
export interface MemberAttrSet {
  memberId: bigint;
  name: string;
  clientUrls: string[];
}

/** The leader setting the cluster version (etcd 3.4: a v2 PUT of /0/version). */
export interface ClusterVersionSet {
  version: string;
}

export interface OpRequests {
  put: PutRequest;
  deleteRange: DeleteRangeRequest;
  txn: TxnRequest;
  compaction: CompactionRequest;
  alarm: AlarmRequest;
  memberAttrSet: MemberAttrSet;
  leaseGrant: LeaseGrantRequest;
  leaseRevoke: LeaseRevokeRequest;
  clusterVersionSet: ClusterVersionSet;
  /** Any other v2 request: applied to the v2 store (v2 API writes, quorum reads, the TTL SYNC). */
  v2Request: V2Request;
  /** A membership change; proposed as a raft ConfChange entry, not a Normal one. */
  confChange: ConfChange;
  /** A user/role change, enabling or disabling auth, or issuing a token (src/auth/ops.ts). */
  auth: AuthOp;
}

export interface LeaseGrantResult {
  id: bigint;
  ttl: number;
}

export interface LeaseRevokeResult {
  /** The store's revision after the attached keys were deleted. */
  revision: number;
}

export interface OpResults {
  put: PutResult;
  deleteRange: DeleteRangeResult;
  txn: TxnResult;
  compaction: CompactResult;
  alarm: AlarmMember[];
  memberAttrSet: undefined;
  leaseGrant: LeaseGrantResult;
  leaseRevoke: LeaseRevokeResult;
  clusterVersionSet: undefined;
  v2Request: V2ApplyResult;
  /** The members after the change. */
  confChange: MemberRecord[];
  auth: AuthOutcome;
}

export type OpKind = keyof OpRequests;

/** One proposal: the discriminated union over every kind. */
export type InternalOp = { [K in OpKind]: { kind: K; req: OpRequests[K] } }[OpKind];

export type ResultOf<O extends InternalOp> = OpResults[O['kind']];

export interface InternalRequest {
  /** Unique per proposing member; the applier resolves the proposer's waiter with it. */
  id: bigint;
  op: InternalOp;
  /**
   * Who proposed it (etcd's RequestHeader username and auth_revision): the
   * auth stage checks the request's permissions against it when applying.
   */
  auth?: AuthInfo;
}

/**
 * What applying each kind does, as a table of functions: the applier's stages
 * implement it, so a stage that forgets a kind, or answers one with the wrong
 * result, does not compile.
 */
export type OpHandlers = { [K in StagedKind]: (index: number, req: OpRequests[K]) => OpResults[K] };

/** Kinds applied by the stage chain (conf changes are applied by the applier itself). */
export type StagedKind = Exclude<OpKind, 'confChange'>;
