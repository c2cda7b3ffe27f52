// The leader's view of one follower: how much of the log it has (match), what to send next,
// and how to send it (probe one message at a time, replicate optimistically, or wait for a snapshot).
import { Inflights } from './inflights.js';
import type { ProgressStatus } from './types.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** Index of the snapshot being sent, while in 'snapshot' state. */
  pendingSnapshot = 0;
  /** Heard from this peer since the last check-quorum round. */
  recentActive = false;
  /** In probe state: a message was sent and we wait for an answer (or a heartbeat response) before the next. */
  probeSent = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, maxInflightMsgs: number, maxInflightBytes: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** Forget everything about the follower (new term): probe from `next`. */
  restart(match: number, next: number): void {
    this.resetState('probe');
    this.recentActive = false;
    this.match = match;
    this.next = next;
  }

  becomeProbe(): void {
    // Coming back from a snapshot, the follower has at least the snapshot.
    const floor = this.state === 'snapshot' ? this.pendingSnapshot : 0;
    this.resetState('probe');
    this.next = Math.max(this.match + 1, floor + 1);
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** The follower acknowledged up to n; returns whether match advanced. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * The follower rejected an append at index `rejected`; `matchHint` is the highest index that may match.
   * Returns false for a stale rejection (one that no longer describes what we sent).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    // As etcd: not held above `match`. A follower that rejects below what it once matched
    // has lost that part of its log (e.g. a member re-created under the same id); holding
    // `next` at match+1 would resend the same rejected append forever.
    this.next = Math.max(Math.min(rejected, matchHint + 1), 1);
    this.probeSent = false;
    return true;
  }

  /** Record that an append carrying entries up to `lastIndex` (`bytes` in total) was sent. */
  sentEntries(lastIndex: number | undefined, bytes: number): void {
    if (this.state === 'replicate') {
      if (lastIndex !== undefined) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  toStatus(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      recentActive: this.recentActive,
      isLearner: this.isLearner,
    };
  }
}
