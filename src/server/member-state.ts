// What a member knows about itself and the cluster that every response header
// and every status answer needs: ids, raft term, commit index, the leader.
// Updated only by the raft loop's notifications. Leader-only work (lease
// expiry, auto-compaction) subscribes to leadership changes here instead of
// polling.
import type { ResponseHeader } from '../pb/etcdserverpb/rpc.js';
import { type HardState, NONE, type SoftState, StateType } from '../raft/types.js';

export type LeadershipListener = (isLeader: boolean) => void;
export type LeaderListener = (leader: bigint, term: number) => void;

export class MemberState {
  term = 0;
  commitIndex = 0;
  leader: bigint = NONE;
  isLeader = false;
  private readonly leadershipListeners = new Set<LeadershipListener>();
  private readonly leaderListeners = new Set<LeaderListener>();

  constructor(
    readonly memberId: bigint,
    readonly clusterId: bigint,
    hardState: HardState,
  ) {
    this.term = hardState.term;
    this.commitIndex = hardState.commit;
  }

  header(revision: number): ResponseHeader {
    return { clusterId: this.clusterId, memberId: this.memberId, revision, raftTerm: this.term };
  }

  hasLeader(): boolean {
    return this.leader !== NONE;
  }

  /** Calls `listener` whenever this member becomes or stops being the leader. Returns an unsubscribe. */
  onLeadership(listener: LeadershipListener): () => void {
    this.leadershipListeners.add(listener);
    return () => this.leadershipListeners.delete(listener);
  }

  /** Calls `listener` whenever the known leader changes (NONE when lost). Returns an unsubscribe. */
  onLeaderChange(listener: LeaderListener): () => void {
    this.leaderListeners.add(listener);
    return () => this.leaderListeners.delete(listener);
  }

  /** Terms never go back (raft's contract); a broken one is a bug worth stopping for. */
  applyHardState(hs: HardState): void {
    if (hs.term < this.term) throw new Error(`raft term went back: ${hs.term} < ${this.term}`);
    this.term = hs.term;
    this.commitIndex = hs.commit;
  }

  /** Returns the previous leader when it changed, undefined otherwise. */
  applySoftState(s: SoftState): bigint | undefined {
    const wasLeader = this.isLeader;
    this.isLeader = s.state === StateType.Leader;
    let previous: bigint | undefined;
    if (s.leader !== this.leader) {
      previous = this.leader;
      this.leader = s.leader;
      for (const l of [...this.leaderListeners]) l(s.leader, this.term);
    }
    if (wasLeader !== this.isLeader) {
      for (const l of [...this.leadershipListeners]) l(this.isLeader);
    }
    return previous;
  }
}
