// Storage held in memory, filled by the application: the durable log in tests and the simulator,
// and the cache in front of the WAL in the server. ents[0] is a placeholder carrying the
// index and term of the last compaction point (the snapshot).
import {
  CompactedError,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  NONE,
  SnapOutOfDateError,
  type Snapshot,
  type Storage,
  UnavailableError,
} from './types.js';
import { assert, EMPTY_BYTES, limitSize, violated } from './util.js';

export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: NONE, commit: 0 };
  private snap: Snapshot = {
    metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
    data: EMPTY_BYTES,
  };
  private ents: Entry[] = [{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY_BYTES }];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  private offset(): number {
    return this.ents[0].index;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    if (lo <= this.offset()) throw new CompactedError();
    if (hi > this.lastIndex() + 1) throw new UnavailableError();
    if (lo >= hi) return [];
    return limitSize(this.ents.slice(lo - this.offset(), hi - this.offset()), maxSizeBytes);
  }

  term(i: number): number {
    if (i < this.offset()) throw new CompactedError();
    if (i > this.lastIndex()) throw new UnavailableError();
    return this.ents[i - this.offset()].term;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  applySnapshot(s: Snapshot): void {
    if (s.metadata.index <= this.snap.metadata.index) throw new SnapOutOfDateError();
    this.snap = s;
    this.ents = [
      { term: s.metadata.term, index: s.metadata.index, type: EntryType.Normal, data: EMPTY_BYTES },
    ];
  }

  createSnapshot(index: number, cs: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) throw new SnapOutOfDateError();
    assert(index <= this.lastIndex(), `snapshot index ${index} beyond last index ${this.lastIndex()}`);
    this.snap = { metadata: { index, term: this.term(index), confState: cloneConfState(cs) }, data };
    return this.snap;
  }

  /** Drop the entries up to and including `index`, which becomes the new placeholder. */
  compact(index: number): void {
    if (index <= this.offset()) throw new CompactedError();
    assert(index <= this.lastIndex(), `compact ${index} beyond last index ${this.lastIndex()}`);
    const placeholder = { ...this.ents[index - this.offset()], type: EntryType.Normal, data: EMPTY_BYTES };
    this.ents = [placeholder, ...this.ents.slice(index - this.offset() + 1)];
  }

  /** Append durable entries, cutting off a conflicting suffix; entries below firstIndex are ignored. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const lastNew = entries[0].index + entries.length - 1;
    if (lastNew < first) return;
    if (first > entries[0].index) entries = entries.slice(first - entries[0].index);
    const at = entries[0].index - this.offset();
    if (!(at <= this.ents.length))
      violated(`missing log entry before ${entries[0].index} (last ${this.lastIndex()})`);
    // In place: copying the whole log on every append would make appends O(log length).
    this.ents.length = at;
    for (const e of entries) this.ents.push(e);
  }
}

function cloneConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners] };
}
