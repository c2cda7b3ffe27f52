// The Raft log as the core sees it: the durable part in Storage plus the unstable tail.
// Invariant: applied <= committed <= lastIndex.

import { CompactedError, type Entry, type Snapshot, type Storage, UnavailableError } from './types.js';
import { Unstable } from './unstable.js';
import { assert, limitSize, violated } from './util.js';

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  committed: number;
  applied: number;
  /** Bound on the bytes of committed entries handed to the application in one Ready. */
  readonly maxApplyBytes: number;

  constructor(storage: Storage, maxApplyBytes: number) {
    this.storage = storage;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    // Everything up to the storage's snapshot is committed and applied by definition.
    this.committed = first - 1;
    this.applied = first - 1;
    this.maxApplyBytes = maxApplyBytes;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** Term of entry i; throws CompactedError below firstIndex-1 and UnavailableError beyond lastIndex. */
  term(i: number): number {
    const dummy = this.firstIndex() - 1;
    if (i < dummy) throw new CompactedError();
    if (i > this.lastIndex()) throw new UnavailableError();
    const t = this.unstable.maybeTerm(i);
    return t !== undefined ? t : this.storage.term(i);
  }

  /** Term of entry i, or undefined when it is compacted or beyond the log. No exception on the hot path. */
  maybeTerm(i: number): number | undefined {
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return undefined;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (e instanceof CompactedError || e instanceof UnavailableError) return undefined;
      throw e;
    }
  }

  /** Term of entry i, or 0 when it is compacted or missing (0 never matches a real term). */
  termOrZero(i: number): number {
    return this.maybeTerm(i) ?? 0;
  }

  matchTerm(i: number, term: number): boolean {
    return this.maybeTerm(i) === term;
  }

  /**
   * The follower side of AppendEntries: if our entry at `index` has `logTerm`, append the
   * entries (cutting a conflicting suffix) and commit; returns the last new index, or undefined on mismatch.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const conflict = this.findConflict(ents);
    if (conflict !== 0) {
      if (!(conflict > this.committed)) violated(`conflict at ${conflict} <= committed ${this.committed}`);
      this.append(ents.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0].index - 1;
    if (!(after >= this.committed)) violated(`append after ${after} is below committed ${this.committed}`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** The index of the first entry that is new or conflicts with ours; 0 if all are already present. */
  findConflict(ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term. Used for fast back-off:
   * entries above it cannot match a log whose entry at `index` has `term`.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    for (; index > 0; index--) {
      let ours: number;
      try {
        ours = this.term(index);
      } catch {
        return [index, 0];
      }
      if (ours <= term) return [index, ours];
    }
    return [0, 0];
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.slice();
  }

  /** Committed entries not yet applied, bounded by maxApplyBytes. */
  nextEntries(): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 <= lo) return [];
    return this.slice(lo, this.committed + 1, this.maxApplyBytes);
  }

  hasNextEntries(): boolean {
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(c: number): void {
    if (c <= this.committed) return;
    if (!(c <= this.lastIndex())) violated(`commit ${c} beyond last index ${this.lastIndex()}`);
    this.committed = c;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    assert(
      i >= this.applied && i <= this.committed,
      `applied ${i} outside [${this.applied}, ${this.committed}]`,
    );
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  /** Entries from i to the end, at most maxSizeBytes (at least one). */
  entries(i: number, maxSizeBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxSizeBytes);
  }

  /** Raft's log comparison (§5.4.1): a later last term wins, then a longer log. */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Leader rule (§5.4.2): only an entry of the leader's current term is committed by counting replicas. */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries [lo, hi) from storage and the unstable tail; throws CompactedError below firstIndex. */
  slice(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    this.checkBounds(lo, hi);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    const off = this.unstable.offset;
    if (lo < off) {
      const stored = this.storage.entries(lo, Math.min(hi, off), maxSizeBytes);
      // Storage stopped early because of the size limit: do not add unstable entries after a gap.
      if (stored.length < Math.min(hi, off) - lo) return stored;
      ents = stored;
    }
    if (hi > off) {
      const tail = this.unstable.slice(Math.max(lo, off), hi);
      ents = ents.length > 0 ? ents.concat(tail) : tail;
    }
    return limitSize(ents, maxSizeBytes);
  }

  private checkBounds(lo: number, hi: number): void {
    if (!(lo <= hi)) violated(`invalid slice ${lo} > ${hi}`);
    if (lo < this.firstIndex()) throw new CompactedError();
    if (!(hi <= this.lastIndex() + 1)) violated(`slice [${lo},${hi}) beyond last index ${this.lastIndex()}`);
  }
}
