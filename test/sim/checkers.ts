// Safety invariants, checked as the simulation runs (each check is incremental so it can
// run on every step). Any violation throws SimViolation, which the sweep reports with its seed.
import {
  type Entry,
  type HardState,
  NONE,
  type NodeId,
  type Ready,
  StateType,
} from '../../src/raft/index.js';
import { entryDigest } from './app.js';
import type { PendingRead, SimNode } from './node.js';

export class SimViolation extends Error {
  constructor(invariant: string, detail: string) {
    super(`${invariant}: ${detail}`);
  }
}

interface LogRecord {
  digest: number;
  /** Term of the entry just before it, or -1 when the holder had compacted it away. */
  prevTerm: number;
}

interface LeaderCheck {
  term: number;
  /** Entries committed (anywhere) before this leader was seen; all must be in its log. */
  committedUpTo: number;
}

export class Checkers {
  private leaders = new Map<number, NodeId>();
  private committedTerm: number[] = [];
  private maxCommitted = 0;
  private logRecords = new Map<string, LogRecord>();
  private canonHash: number[] = [];
  private durable = new Map<NodeId, HardState>();
  private pendingLeaderChecks = new Map<NodeId, LeaderCheck>();
  readonly acked: number[] = [];
  /** Log index at which each acknowledged write (same order as `acked`) was applied. */
  private ackedIndex: number[] = [];
  readsChecked = 0;

  /** Election safety: at most one leader per term, ever. */
  observeLeader(node: SimNode, term: number): void {
    const other = this.leaders.get(term);
    if (other !== undefined && other !== node.id) {
      throw new SimViolation('election safety', `term ${term} has leaders ${other} and ${node.id}`);
    }
    if (other === undefined) {
      // First sighting of this leader: remember what was committed by then, to check its log.
      this.leaders.set(term, node.id);
      this.pendingLeaderChecks.set(node.id, { term, committedUpTo: this.maxCommitted });
    }
  }

  leaderOf(term: number): NodeId | undefined {
    return this.leaders.get(term);
  }

  onReady(node: SimNode, rd: Ready): void {
    if (node.state === StateType.Leader) this.observeLeader(node, node.term);
    if (rd.committedEntries.length > 0) {
      const first = rd.committedEntries[0]!.index;
      if (first !== node.app.applied + 1 && rd.snapshot === undefined) {
        throw new SimViolation(
          'apply order',
          `node ${node.id} handed ${first} after applying ${node.app.applied}`,
        );
      }
    }
  }

  /** After `rd` reached node's disk: durable monotonicity, log matching, commit agreement, leader completeness. */
  onPersisted(node: SimNode, rd: Ready): void {
    const hs = node.storage.initialState().hardState;
    this.checkDurableMonotonic(node, hs);
    if (rd.snapshot !== undefined)
      this.checkSnapshot(node, rd.snapshot.metadata.index, rd.snapshot.metadata.term);
    this.recordEntries(node, rd.entries);
    if (hs.commit > node.storage.lastIndex()) {
      throw new SimViolation(
        'commit bound',
        `node ${node.id} commit ${hs.commit} > last ${node.storage.lastIndex()}`,
      );
    }
    this.recordCommitted(node, hs.commit);
    this.checkLeaderCompleteness(node);
  }

  /** State machine safety: every node's state after index i is the same (hash chain over applied entries). */
  onApplied(node: SimNode, e: Entry): void {
    const durableCommit = node.storage.initialState().hardState.commit;
    if (e.index > durableCommit) {
      throw new SimViolation(
        'apply before commit',
        `node ${node.id} applied ${e.index}, durable commit ${durableCommit}`,
      );
    }
    this.agreeCommitted(node, e.index, e.term);
    const h = this.canonHash[e.index];
    if (h === undefined) this.canonHash[e.index] = node.app.hash;
    else if (h !== node.app.hash) {
      throw new SimViolation('state machine safety', `node ${node.id} diverged at applied index ${e.index}`);
    }
  }

  onAck(writeId: number, index: number): void {
    this.acked.push(writeId);
    this.ackedIndex.push(index);
  }

  /** Linearizable reads: a read sees every write acknowledged before it was issued. */
  onReadServed(node: SimNode, read: PendingRead): void {
    for (let k = 0; k < read.ackedBefore; k++) {
      const w = this.acked[k]!;
      if (!node.app.writeSet.has(w)) {
        throw new SimViolation(
          'linearizable read',
          `read ${read.readId} on node ${node.id} at index ${read.index} misses write ${w} acknowledged before it`,
        );
      }
    }
    this.readsChecked++;
  }

  /** Durability of acknowledged writes: every one at or below node's applied index is in its state machine. */
  checkAllAckedPresent(node: SimNode): void {
    for (let k = 0; k < this.acked.length; k++) {
      const w = this.acked[k]!;
      if (this.ackedIndex[k]! <= node.app.applied && !node.app.writeSet.has(w)) {
        throw new SimViolation('durability', `acknowledged write ${w} missing on node ${node.id}`);
      }
    }
  }

  private checkDurableMonotonic(node: SimNode, hs: HardState): void {
    const before = this.durable.get(node.id);
    if (before !== undefined) {
      if (hs.term < before.term)
        throw new SimViolation('term monotonic', `node ${node.id} ${before.term} -> ${hs.term}`);
      if (hs.commit < before.commit) {
        throw new SimViolation('commit monotonic', `node ${node.id} ${before.commit} -> ${hs.commit}`);
      }
      if (hs.term === before.term && before.vote !== NONE && hs.vote !== before.vote) {
        throw new SimViolation(
          'vote safety',
          `node ${node.id} voted ${before.vote} then ${hs.vote} in term ${hs.term}`,
        );
      }
    }
    this.durable.set(node.id, { ...hs });
  }

  /** A restored snapshot is a committed prefix, and its image equals every replica's state at that index. */
  private checkSnapshot(node: SimNode, index: number, term: number): void {
    this.agreeCommitted(node, index, term);
    const h = this.canonHash[index];
    if (h !== undefined && h !== node.app.hash) {
      throw new SimViolation(
        'state machine safety',
        `node ${node.id} restored a snapshot at ${index} unlike the replicas`,
      );
    }
  }

  /** Log matching: one (index, term) names one entry, with one predecessor term. */
  private recordEntries(node: SimNode, entries: Entry[]): void {
    for (const e of entries) {
      const prevTerm = this.termAt(node, e.index - 1);
      const key = `${e.index}/${e.term}`;
      const digest = entryDigest(e);
      const rec = this.logRecords.get(key);
      if (rec === undefined) {
        this.logRecords.set(key, { digest, prevTerm });
        continue;
      }
      if (rec.digest !== digest)
        throw new SimViolation('log matching', `two entries at ${key} (node ${node.id})`);
      if (rec.prevTerm >= 0 && prevTerm >= 0 && rec.prevTerm !== prevTerm) {
        throw new SimViolation('log matching', `entry ${key} follows terms ${rec.prevTerm} and ${prevTerm}`);
      }
      if (rec.prevTerm < 0) rec.prevTerm = prevTerm;
    }
  }

  private recordCommitted(node: SimNode, commit: number): void {
    const from = Math.max(node.storage.firstIndex() - 1, 1);
    for (let i = from; i <= commit; i++) {
      const t = this.termAt(node, i);
      if (t >= 0) this.agreeCommitted(node, i, t);
    }
    this.maxCommitted = Math.max(this.maxCommitted, commit);
  }

  private agreeCommitted(node: SimNode, index: number, term: number): void {
    const known = this.committedTerm[index];
    if (known === undefined) this.committedTerm[index] = term;
    else if (known !== term) {
      throw new SimViolation(
        'committed entry changed',
        `index ${index}: term ${known}, node ${node.id} has ${term}`,
      );
    }
  }

  /** Leader completeness: a leader's log holds every entry committed before it was elected. */
  private checkLeaderCompleteness(node: SimNode): void {
    const check = this.pendingLeaderChecks.get(node.id);
    if (check === undefined) return;
    if (node.term !== check.term || node.state !== StateType.Leader) {
      if (node.term > check.term) this.pendingLeaderChecks.delete(node.id); // stepped down; log may be cut
      return;
    }
    this.pendingLeaderChecks.delete(node.id);
    const s = node.storage;
    const last = s.lastIndex();
    for (let i = Math.max(s.firstIndex(), 1); i <= check.committedUpTo; i++) {
      const want = this.committedTerm[i];
      if (want === undefined) continue;
      const got = i <= last ? s.term(i) : -1;
      if (got !== want) {
        throw new SimViolation(
          'leader completeness',
          `leader ${node.id} of term ${check.term} has term ${got} at committed index ${i} (want ${want})`,
        );
      }
    }
  }

  private termAt(node: SimNode, i: number): number {
    const s = node.storage;
    if (i < s.firstIndex() - 1 || i > s.lastIndex()) return -1;
    return s.term(i);
  }
}
