// What a member needs from the network, as two narrow interfaces, so the
// same member runs on etcd's peer protocol (src/peer, the default) or on the
// simulator's network (issue 8): raft messages out, peers kept in step with
// the membership, and a follower's way to the leader's lessor.
import type { LeaseTimeToLiveRequest, LeaseTimeToLiveResponse } from '../pb/etcdserverpb/rpc.js';
import type { RaftHost } from '../peer/context.js';
import type { SnapshotReceiver } from '../peer/raft-handler.js';
import type { SnapshotSource } from '../peer/transport.js';
import type { Message } from '../raft/types.js';

export interface MemberTransport {
  send(messages: readonly Message[]): void;
  addPeer(id: bigint, urls: readonly string[]): void;
  removePeer(id: bigint): void;
  updatePeer(id: bigint, urls: readonly string[]): void;
  peerIds(): bigint[];
  /** Since when `id` has been reachable (ms since the epoch), undefined when it is not. */
  activeSince(id: bigint): number | undefined;
  stop(): void;
}

/**
 * A follower's calls to the leader's lessor (etcd: /leases and
 * /leases/internal on the leader's peer URLs). Errors: an error with
 * `status` 404 when the leader does not know the lease.
 */
export interface LeaderForwarder {
  renew(leaderUrls: readonly string[], id: bigint, timeoutMs: number): Promise<number>;
  timeToLive(
    leaderUrls: readonly string[],
    req: LeaseTimeToLiveRequest,
    timeoutMs: number,
  ): Promise<LeaseTimeToLiveResponse>;
  close(): void;
}

/** Questions a member asks other members directly (etcd: GET /version on their peer URLs). */
export interface PeerQueries {
  /** The member's `/version` answer, or undefined when it cannot be reached or read. */
  version(
    urls: readonly string[],
    timeoutMs: number,
  ): Promise<{ server: string; cluster: string } | undefined>;
}

export interface MemberNetwork {
  transport: MemberTransport;
  forwarder: LeaderForwarder;
  queries: PeerQueries;
}

/**
 * Builds a member's network once the member can receive (its raft host and snapshots exist):
 * raft snapshots go out through `snapshots.prepare` and come in through `snapshots.saveDatabase`.
 */
export type NetworkFactory = (host: RaftHost, snapshots: SnapshotSource & SnapshotReceiver) => MemberNetwork;
