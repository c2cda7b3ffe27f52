// Rebuilding the log from segment files at open: pick the first segment that can hold
// the entries after the requested snapshot, verify every record, apply raft's
// overwrite rule, and find the torn tail (if any) to cut.
import { join } from 'node:path';
import type { FileSystem } from '../fs/file-system.js';
import type { Entry, HardState } from '../raft/types.js';
import { WalCorruptError } from './errors.js';
import { decodeEntry, decodeHardState, decodeSnapshot, type WalSnapshotRef } from './payloads.js';
import { RecordType } from './record.js';
import { type ScannedRecord, scanSegment } from './scan.js';
import type { SegmentFile } from './segments.js';

export interface WalReplay {
  metadata: Uint8Array;
  hardState: HardState;
  entries: Entry[];
  /** Newest snapshot record at or below the requested one ({0,0} when there is none). */
  snapshot: WalSnapshotRef;
}

export interface ReplayResult {
  replay: WalReplay;
  /** Where appends continue in the last segment (after any torn tail is cut). */
  tailOffset: number;
  torn?: { file: string; offset: number; reason: string; garbageEnd: number };
  /** The log's last index as written (raft truncation applied), at least from.index. */
  lastIndex: number;
  /** Newest snapshot record of any index: rewritten at the head of every new segment. */
  latestSnapshot: WalSnapshotRef;
}

export function emptyHardState(): HardState {
  return { term: 0, vote: 0n, commit: 0 };
}

/** etcd's rule: the last segment (by seq) whose first index is at or below the snapshot index. */
export function selectStart(segs: SegmentFile[], fromIndex: number): number {
  for (let i = segs.length - 1; i >= 0; i--) if (segs[i]!.firstIndex <= fromIndex) return i;
  return -1;
}

class ReplayState {
  metadata: Buffer | undefined;
  hardState = emptyHardState();
  entries: Entry[] = [];
  snapshot: WalSnapshotRef = { index: 0, term: 0 };
  latestSnapshot: WalSnapshotRef = { index: 0, term: 0 };
  lastIndex: number;

  constructor(private readonly from: WalSnapshotRef) {
    this.lastIndex = from.index;
  }

  apply(rec: ScannedRecord, file: string): void {
    try {
      this.applyUnchecked(rec, file);
    } catch (err) {
      if (err instanceof WalCorruptError) throw err;
      // A checksummed record that does not decode: never guess, refuse.
      throw new WalCorruptError(file, rec.offset, `undecodable record: ${(err as Error).message}`);
    }
  }

  private applyUnchecked(rec: ScannedRecord, file: string): void {
    switch (rec.type) {
      case RecordType.Metadata:
        if (this.metadata && !this.metadata.equals(rec.payload)) {
          throw new WalCorruptError(file, rec.offset, 'metadata conflicts with an earlier metadata record');
        }
        this.metadata = rec.payload;
        return;
      case RecordType.HardState:
        this.hardState = decodeHardState(rec.payload);
        return;
      case RecordType.Entry:
        this.applyEntry(decodeEntry(rec.payload), rec, file);
        return;
      case RecordType.Snapshot:
        this.applySnapshot(decodeSnapshot(rec.payload), rec, file);
        return;
    }
  }

  private applyEntry(e: Entry, rec: ScannedRecord, file: string): void {
    this.lastIndex = Math.max(e.index, this.from.index);
    if (e.index <= this.from.index) return; // covered by the snapshot
    const pos = e.index - this.from.index - 1;
    if (pos > this.entries.length) {
      const have = this.from.index + this.entries.length;
      throw new WalCorruptError(file, rec.offset, `entry ${e.index} leaves a gap after index ${have}`);
    }
    // Writing index i again means raft truncated its log at i: drop i and everything after it.
    this.entries.length = pos;
    this.entries.push(e);
  }

  private applySnapshot(ref: WalSnapshotRef, rec: ScannedRecord, file: string): void {
    if (ref.index === this.from.index && ref.index !== 0 && ref.term !== this.from.term) {
      throw new WalCorruptError(
        file,
        rec.offset,
        `snapshot record term ${ref.term} at index ${ref.index} does not match the requested term ${this.from.term}`,
      );
    }
    if (ref.index <= this.from.index && ref.index >= this.snapshot.index) this.snapshot = ref;
    if (ref.index >= this.latestSnapshot.index) this.latestSnapshot = ref;
    this.lastIndex = Math.max(this.lastIndex, ref.index);
  }
}

export async function replaySegments(
  fs: FileSystem,
  dir: string,
  segs: SegmentFile[],
  from: WalSnapshotRef,
): Promise<ReplayResult> {
  const start = selectStart(segs, from.index);
  if (start < 0) {
    throw new Error(`wal: no segment in ${dir} starts at or below snapshot index ${from.index} (released?)`);
  }
  const state = new ReplayState(from);
  let tailOffset = 0;
  let torn: ReplayResult['torn'];
  for (let i = start; i < segs.length; i++) {
    const seg = segs[i]!;
    const file = join(dir, seg.name);
    if (i > start && seg.seq !== segs[i - 1]!.seq + 1) {
      throw new WalCorruptError(file, 0, `segment seq ${seg.seq} does not follow ${segs[i - 1]!.seq}`);
    }
    const buf = await fs.readFile(file);
    const isLast = i === segs.length - 1;
    const scan = scanSegment(buf, file, isLast);
    if (scan.header.seq !== seg.seq || scan.header.firstIndex !== seg.firstIndex) {
      throw new WalCorruptError(file, 0, 'segment header does not match the file name');
    }
    for (const rec of scan.records) state.apply(rec, file);
    if (isLast) {
      tailOffset = scan.torn ? scan.torn.offset : scan.end;
      if (scan.torn) torn = { file, ...scan.torn };
    }
  }
  if (!state.metadata) throw new WalCorruptError(join(dir, segs[start]!.name), 0, 'no metadata record');
  return {
    replay: {
      metadata: new Uint8Array(state.metadata),
      hardState: state.hardState,
      entries: state.entries,
      snapshot: state.snapshot,
    },
    tailOffset,
    ...(torn ? { torn } : {}),
    lastIndex: state.lastIndex,
    latestSnapshot: state.latestSnapshot,
  };
}
