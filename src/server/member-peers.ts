// The member's side of the peer transport: the raft host the transport
// delivers to, the member endpoints of the peer port (/members, /version,
// /members/promote, /leases), the follower's ways to the leader (lease
// keep-alives, promotions), and the leader's cluster-version monitor.

import http from 'node:http';
import { ETCD_CLUSTER_VERSION } from '../config/version.js';
import type { Logger } from '../log/types.js';
import type { LeaseTimeToLiveRequest, LeaseTimeToLiveResponse } from '../pb/etcdserverpb/rpc.js';
import { getVersion } from '../peer/cluster-info.js';
import { majorMinor } from '../peer/compat.js';
import { CONN_READ_TIMEOUT_MS } from '../peer/constants.js';
import { type RaftHost, RemovedMemberError } from '../peer/context.js';
import { readSmall } from '../peer/http-util.js';
import { LeaseForwardError } from '../peer/lease-forwarder.js';
import { PeerHttpError, type PeerMemberApi } from '../peer/member-handler.js';
import { fromWire } from '../peer/read-index-shape.js';
import type { RawNode } from '../raft/index.js';
import type { Message } from '../raft/types.js';
import type { Clock, Timer } from '../runtime/clock.js';
import { Errors, ServerError } from './errors.js';
import type { MemberCluster } from './member-cluster.js';
import { encodeMembersArray, parseMembersArray } from './member-json.js';
import type { LeaderForwarder, PeerQueries } from './member-network.js';
import type { MemberState } from './member-state.js';
import type { Member, Membership } from './membership.js';

/** The leader re-checks the members' versions this often (etcd's monitorVersions). */
const VERSION_MONITOR_MS = CONN_READ_TIMEOUT_MS - 1000;
const MIN_CLUSTER_VERSION = '3.0.0';

/** The leader's lessor as the peer port serves it to followers. */
export interface LeaderLeaseApi {
  /** Renews on the leader; PeerHttpError 404 "lease not found" / 400 "not a primary lessor". */
  renewAsLeader(id: bigint): Promise<number>;
  timeToLiveAsLeader(req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse>;
}

export interface MemberPeersDeps {
  memberId: bigint;
  node: RawNode;
  state: MemberState;
  membership: Membership;
  /** Proposes the cluster version through raft (etcd: a v2 PUT of /0/version). */
  proposeClusterVersion(version: string): Promise<unknown>;
  log: Logger;
  wake(): void;
  /** This member was removed from the cluster: it must stop. */
  onRemoved(reason: string): void;
  requestTimeoutMs: number;
  clock: Clock;
  versionJson(): string;
  clusterId(): bigint;
}

export class MemberPeers implements RaftHost {
  private versionTimer: Timer | undefined;
  private deciding = false;
  private forwarder: LeaderForwarder | undefined;
  private queries: PeerQueries | undefined;

  constructor(private readonly d: MemberPeersDeps) {}

  // ---- RaftHost: what the transport delivers --------------------------------

  process(m: Message): void {
    if (this.d.membership.isRemoved(m.from)) throw new RemovedMemberError(m.from);
    this.d.node.step(fromWire(m));
    this.d.wake();
  }

  isRemoved(id: bigint): boolean {
    return this.d.membership.isRemoved(id);
  }

  reportUnreachable(id: bigint): void {
    this.d.node.reportUnreachable(id);
  }

  reportSnapshot(id: bigint, ok: boolean): void {
    this.d.node.reportSnapshot(id, ok);
    this.d.wake();
  }

  removedByPeer(reason: string): void {
    this.d.onRemoved(reason);
  }

  // ---- the follower's way to the leader ------------------------------------

  attachNetwork(forwarder: LeaderForwarder, queries: PeerQueries): void {
    this.forwarder = forwarder;
    this.queries = queries;
  }

  private leaderUrls(): string[] {
    return this.d.membership.get(this.d.state.leader)?.peerUrls ?? [];
  }

  /** The leader's lessor as seen from a follower (etcd forwards over the peer port). */
  readonly leaderLessor = {
    renew: async (id: bigint): Promise<number | undefined> => {
      try {
        return await this.requireForwarder().renew(this.leaderUrls(), id, this.d.requestTimeoutMs);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw forwardError(err);
      }
    },
    timeToLive: async (req: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse | undefined> => {
      try {
        return await this.requireForwarder().timeToLive(this.leaderUrls(), req, this.d.requestTimeoutMs);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw forwardError(err);
      }
    },
  };

  private requireForwarder(): LeaderForwarder {
    if (this.forwarder === undefined) throw Errors.noLeader();
    return this.forwarder;
  }

  /** POST /members/promote/<id> to the leader (etcd's promoteMemberHTTP). */
  async forwardPromote(leader: Member, id: bigint): Promise<Member[]> {
    let last: unknown = Errors.timeout();
    for (const u of leader.peerUrls) {
      try {
        const { status, body } = await post(
          new URL(`/members/promote/${id.toString(10)}`, u),
          this.d.requestTimeoutMs,
        );
        if (status === 200) return parseMembersArray(body);
        const text = body.trim();
        if (text.includes('in sync with leader'))
          throw new ServerError(
            9,
            'etcdserver: can only promote a learner member which is in sync with leader',
          );
        if (text === 'membership: can only promote a learner member') {
          throw new ServerError(9, 'etcdserver: can only promote a learner member');
        }
        if (status === 404) throw Errors.memberNotFound();
        last = new Error(`member promote: unknown error(${text})`);
      } catch (err) {
        if (err instanceof ServerError) throw err;
        last = err;
      }
    }
    throw last;
  }

  // ---- the peer port's member endpoints -----------------------------------

  memberApi(cluster: MemberCluster, leases: LeaderLeaseApi): PeerMemberApi {
    return {
      clusterId: () => this.d.clusterId(),
      membersJson: () => encodeMembersArray(this.d.membership.list()),
      versionJson: () => this.d.versionJson(),
      promote: async (id) => {
        try {
          return encodeMembersArray(await cluster.promoteAsLeader(id));
        } catch (err) {
          throw toPromoteHttpError(err);
        }
      },
      leaseRenew: (id) => leases.renewAsLeader(id),
      leaseTimeToLive: (req) => leases.timeToLiveAsLeader(req),
    };
  }

  // ---- cluster version (leader only) --------------------------------------

  start(): void {
    this.versionTimer = this.d.clock.every(VERSION_MONITOR_MS, () => void this.monitorVersion(), {
      unref: true,
    });
  }

  stop(): void {
    this.versionTimer?.cancel();
    this.forwarder?.close();
  }

  /**
   * The leader decides the cluster version from every member's /version
   * (the lowest server version, as major.minor.0; undecided while any member
   * is unreachable) and proposes it when it is new or higher, never above
   * 3.4.0: anything else makes etcd 3.4 members stop.
   */
  async monitorVersion(): Promise<void> {
    if (!this.d.state.isLeader || this.deciding) return;
    this.deciding = true;
    try {
      const decided = await this.decideVersion();
      const current = this.d.membership.clusterVersion();
      let next: string | undefined;
      if (current === undefined) next = decided ?? MIN_CLUSTER_VERSION;
      else if (decided !== undefined && (majorMinor(decided) ?? 0) > (majorMinor(current) ?? 0))
        next = decided;
      if (next === undefined || !this.d.state.isLeader) return;
      if (current === undefined)
        this.d.log.info('setting up initial cluster version', {
          'cluster-version': next.split('.').slice(0, 2).join('.'),
        });
      await this.d.proposeClusterVersion(next);
    } catch (err) {
      this.d.log.warn('failed to update cluster version', { error: (err as Error).message });
    } finally {
      this.deciding = false;
    }
  }

  private async decideVersion(): Promise<string | undefined> {
    let lowest = majorMinor(ETCD_CLUSTER_VERSION)!;
    for (const m of this.d.membership.list()) {
      if (m.id === this.d.memberId) continue;
      const v = await (this.queries?.version(m.peerUrls, 2000) ??
        getVersion(m.peerUrls, { timeoutMs: 2000 }));
      const mm = v === undefined ? undefined : majorMinor(v.server);
      if (mm === undefined) return undefined;
      lowest = Math.min(lowest, mm);
    }
    return `${Math.floor(lowest / 1000)}.${lowest % 1000}.0`;
  }
}

function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { status?: unknown }).status === 404;
}

function forwardError(err: unknown): unknown {
  if (err instanceof LeaseForwardError) {
    if (err.message === 'not a primary lessor') return Errors.notLeader();
    return new ServerError(2, err.message);
  }
  if (err instanceof ServerError) return err;
  return Errors.timeout();
}

function toPromoteHttpError(err: unknown): unknown {
  if (!(err instanceof ServerError)) return err;
  if (err.message === Errors.memberNotFound().message)
    return new PeerHttpError(404, 'membership: ID not found');
  if (err.message === 'etcdserver: can only promote a learner member') {
    return new PeerHttpError(412, 'membership: can only promote a learner member');
  }
  if (err.message.includes('in sync with leader')) return new PeerHttpError(412, err.message);
  return new PeerHttpError(500, err.message);
}

function post(url: URL, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', timeout: timeoutMs, agent: false }, (res) => {
      void readSmall(res).then((body) => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('i/o timeout')));
    req.on('error', reject);
    req.end();
  });
}
