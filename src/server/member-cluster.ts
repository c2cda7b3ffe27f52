// The Cluster API of one member: list, add (voter or learner), remove,
// update and promote, with etcd 3.4's safety checks before proposing
// (--strict-reconfig-check: never a change that would leave the active
// members short of a quorum) and its apply-time validation errors. A
// promotion needs the leader's view of the learner's progress, so a follower
// forwards it to the leader's peer port, as etcd does.
import type { ResponseHeader } from '../pb/etcdserverpb/rpc.js';
import { type ConfChange, ConfChangeType, type Status } from '../raft/types.js';
import { Errors, GrpcCode, ServerError } from './errors.js';
import { computeMemberId } from './ids.js';
import type { MemberState } from './member-state.js';
import { encodeMemberContext, encodePromoteContext, type Member, type Membership } from './membership.js';
import type { Proposer } from './proposer.js';

/** How long a member must have been connected to count as active for a reconfiguration (etcd's HealthInterval). */
export const HEALTH_INTERVAL_MS = 5000;
/** A learner may be promoted once its log has reached this share of the leader's. */
const READY_PERCENT = 0.9;

export interface MemberClusterDeps {
  memberId: bigint;
  state: MemberState;
  membership: Membership;
  proposer: Proposer;
  strictReconfigCheck: boolean;
  /** Since when a peer has been reachable (ms since epoch), undefined when it is not. */
  activeSince(id: bigint): number | undefined;
  raftStatus(): Status;
  /** Asks the leader to promote `id` over the peer port; resolves with the members after. */
  forwardPromote(leader: Member, id: bigint): Promise<Member[]>;
  nowMs(): number;
}

const memberErrors = {
  notEnoughStarted: () =>
    new ServerError(
      GrpcCode.FailedPrecondition,
      'etcdserver: re-configuration failed due to not enough started members',
    ),
  unhealthy: () => new ServerError(GrpcCode.Unavailable, 'etcdserver: unhealthy cluster'),
  badUrls: () => new ServerError(GrpcCode.InvalidArgument, 'etcdserver: given member URLs are invalid'),
  notLearner: () =>
    new ServerError(GrpcCode.FailedPrecondition, 'etcdserver: can only promote a learner member'),
  learnerNotReady: () =>
    new ServerError(
      GrpcCode.FailedPrecondition,
      'etcdserver: can only promote a learner member which is in sync with leader',
    ),
};

export function validPeerUrl(u: string): boolean {
  try {
    const url = new URL(u);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.pathname === '/'
    );
  } catch {
    return false;
  }
}

export class MemberCluster {
  constructor(private readonly d: MemberClusterDeps) {}

  members(): Member[] {
    return this.d.membership.list();
  }

  header(): ResponseHeader {
    return this.d.state.header(0);
  }

  async add(peerUrls: string[], isLearner: boolean): Promise<{ member: Member; members: Member[] }> {
    if (peerUrls.length === 0 || !peerUrls.every(validPeerUrl)) throw memberErrors.badUrls();
    const id = computeMemberId(peerUrls, '', Math.floor(this.d.nowMs() / 1000));
    const member: Member = { id, name: '', peerUrls: [...peerUrls], clientUrls: [], isLearner };
    if (this.d.strictReconfigCheck && !isLearner) this.checkCanAddVoter();
    const cc: ConfChange = {
      type: isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode,
      nodeId: id,
      context: encodeMemberContext(member),
    };
    const members = await this.configure(cc);
    return { member, members };
  }

  async remove(id: bigint): Promise<Member[]> {
    if (this.d.strictReconfigCheck) this.checkCanRemove(id);
    return this.configure({ type: ConfChangeType.RemoveNode, nodeId: id, context: new Uint8Array() });
  }

  async update(id: bigint, peerUrls: string[]): Promise<Member[]> {
    if (peerUrls.length === 0 || !peerUrls.every(validPeerUrl)) throw memberErrors.badUrls();
    const existing = this.d.membership.get(id);
    const member: Member = {
      id,
      name: existing?.name ?? '',
      peerUrls: [...peerUrls],
      clientUrls: existing?.clientUrls ?? [],
      isLearner: existing?.isLearner ?? false,
    };
    return this.configure({
      type: ConfChangeType.UpdateNode,
      nodeId: id,
      context: encodeMemberContext(member),
    });
  }

  /** Promotes a learner; on a follower the leader is asked (only it knows the learner's progress). */
  async promote(id: bigint): Promise<Member[]> {
    if (this.d.state.isLeader) return this.promoteAsLeader(id);
    const leader = this.d.membership.get(this.d.state.leader);
    if (leader === undefined) throw Errors.noLeader();
    return this.d.forwardPromote(leader, id);
  }

  /** The leader's promotion: the learner must exist, be a learner and have caught up. */
  async promoteAsLeader(id: bigint): Promise<Member[]> {
    const m = this.d.membership.get(id);
    if (m === undefined) throw Errors.memberNotFound();
    if (!m.isLearner) throw memberErrors.notLearner();
    const st = this.d.raftStatus();
    if (st.progress === undefined) throw Errors.notLeader();
    const learner = st.progress.get(id);
    const own = st.progress.get(this.d.memberId);
    if (learner !== undefined && own !== undefined && learner.match < own.match * READY_PERCENT) {
      throw memberErrors.learnerNotReady();
    }
    return this.configure({ type: ConfChangeType.AddNode, nodeId: id, context: encodePromoteContext(m) });
  }

  private async configure(cc: ConfChange): Promise<Member[]> {
    // Apply-time rejections arrive as etcd's client errors (errors.ts maps MembershipError).
    return this.d.proposer.propose({ kind: 'confChange', req: cc });
  }

  /** etcd's mayAddMember: enough started voters for the new quorum, and all voters connected lately. */
  private checkCanAddVoter(): void {
    const voters = this.d.membership.voters();
    const started = voters.filter((m) => m.name !== '').length;
    const afterAdd = voters.length + 1;
    if (!(started === 1 && afterAdd === 2) && started < Math.floor(afterAdd / 2) + 1) {
      throw memberErrors.notEnoughStarted();
    }
    if (!this.allConnectedSince(this.d.nowMs() - HEALTH_INTERVAL_MS, voters)) throw memberErrors.unhealthy();
  }

  /** etcd's mayRemoveMember: the remaining started voters keep a quorum, counting only connected ones. */
  private checkCanRemove(id: bigint): void {
    const target = this.d.membership.get(id);
    if (target?.isLearner === true) return;
    const voters = this.d.membership.voters();
    const rest = voters.filter((m) => m.id !== id);
    const started = rest.filter((m) => m.name !== '').length;
    if (started < Math.floor(rest.length / 2) + 1) throw memberErrors.notEnoughStarted();
    // A member that is down is safe to remove: it is not part of the active quorum.
    if (id !== this.d.memberId && this.d.activeSince(id) === undefined) return;
    const since = this.d.nowMs() - HEALTH_INTERVAL_MS;
    const active = voters.filter((m) => this.connectedSince(m.id, since)).length;
    if (active - 1 < 1 + Math.floor((voters.length - 1) / 2)) throw memberErrors.unhealthy();
  }

  private connectedSince(id: bigint, since: number): boolean {
    if (id === this.d.memberId) return true;
    const t = this.d.activeSince(id);
    return t !== undefined && t <= since;
  }

  private allConnectedSince(since: number, members: readonly Member[]): boolean {
    return members.every((m) => this.connectedSince(m.id, since));
  }
}
