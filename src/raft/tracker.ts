// The membership (voters, learners) and the leader's per-peer Progress, plus votes of the current election.
import { Progress } from './progress.js';
import { committedIndex, VoteResult, voteResult } from './quorum.js';
import type { ConfState, NodeId } from './types.js';
import { assert } from './util.js';

export class ProgressTracker {
  readonly voters = new Set<NodeId>();
  readonly learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();
  readonly maxInflightMsgs: number;
  readonly maxInflightBytes: number;

  constructor(maxInflightMsgs: number, maxInflightBytes: number) {
    this.maxInflightMsgs = maxInflightMsgs;
    this.maxInflightBytes = maxInflightBytes;
  }

  confState(): ConfState {
    const sorted = (s: Set<NodeId>) => [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { voters: sorted(this.voters), learners: sorted(this.learners) };
  }

  isVoter(id: NodeId): boolean {
    return this.voters.has(id);
  }

  isLearner(id: NodeId): boolean {
    return this.learners.has(id);
  }

  isSingleVoter(id: NodeId): boolean {
    return this.voters.size === 1 && this.voters.has(id);
  }

  /** Add or change a member's role; a brand-new member starts probing at `next`. */
  setRole(id: NodeId, learner: boolean, next: number): void {
    (learner ? this.voters : this.learners).delete(id);
    (learner ? this.learners : this.voters).add(id);
    let pr = this.progress.get(id);
    if (pr === undefined) {
      pr = new Progress(next, this.maxInflightMsgs, this.maxInflightBytes, learner);
      // A new member counts as active so that check-quorum does not depose the leader at once.
      pr.recentActive = true;
      this.progress.set(id, pr);
    }
    pr.isLearner = learner;
    this.assertDisjoint();
  }

  remove(id: NodeId): void {
    this.voters.delete(id);
    this.learners.delete(id);
    this.progress.delete(id);
    this.votes.delete(id);
  }

  /** Replace the whole membership (snapshot restore); progress is rebuilt from scratch. */
  reset(cs: ConfState, next: number): void {
    this.voters.clear();
    this.learners.clear();
    this.progress.clear();
    this.votes.clear();
    for (const id of cs.voters) this.setRole(id, false, next);
    for (const id of cs.learners) this.setRole(id, true, next);
  }

  committed(): number {
    return committedIndex(this.voters, (id) => this.progress.get(id)?.match ?? 0);
  }

  /** Check-quorum: did a majority of voters (counting ourselves) talk to us recently? */
  quorumActive(self: NodeId): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const id of this.voters) {
      const pr = this.progress.get(id);
      votes.set(id, id === self || (pr?.recentActive ?? false));
    }
    return voteResult(this.voters, votes) === VoteResult.Won;
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: voteResult(this.voters, this.votes) };
  }

  private assertDisjoint(): void {
    for (const id of this.learners) assert(!this.voters.has(id), `node ${id} is both voter and learner`);
  }
}
