// What the v2 HTTP API (src/api/http/v2) asks of a member: etcd's EtcdServer.Do
// for /v2/keys, the member list and changes for /v2/members, and the stats.
import type { V2Event, V2Watcher } from '../../v2store/index.js';
import type { MemberRecord } from '../member-json.js';
import type { V2Request } from './request.js';

/** etcd's Response of Do: an event or a watcher, with raft's term and commit index at the time. */
export interface V2DoResponse {
  event?: V2Event;
  watcher?: V2Watcher;
  term: number;
  index: number;
}

/** A refusal the members API answers with a status and etcd's message ({"message": ...}). */
export class V2HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'V2HttpError';
  }
}

export interface V2Port {
  clusterId(): bigint;
  /**
   * Runs one v2 keys request: writes and quorum GETs through raft (throws the
   * store's V2Error, or a ServerError when raft fails), other GETs and HEADs
   * on the local store, wait=true as a watcher.
   */
  do(req: V2Request): Promise<V2DoResponse>;
  /** Members sorted by id (learners included), as etcd's cluster.Members(). */
  members(): MemberRecord[];
  member(id: bigint): MemberRecord | undefined;
  /** The known leader, 0n during an election. */
  leader(): bigint;
  /** Adds a voting member (throws V2HttpError 409 for taken ids or peer URLs). */
  addMember(peerUrls: string[]): Promise<MemberRecord>;
  /** Throws V2HttpError 404 (unknown) or 410 (removed before). */
  removeMember(id: bigint): Promise<void>;
  /** Throws V2HttpError 404 (unknown) or 409 (peer URL taken). */
  updateMember(id: bigint, peerUrls: string[]): Promise<void>;
  /** /v2/stats/self. */
  selfStats(): string;
  /** /v2/stats/leader; undefined when this member does not lead. */
  leaderStats(): string | undefined;
  /** /v2/stats/store. */
  storeStats(): string;
}
