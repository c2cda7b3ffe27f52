// What the server needs from the WAL and the snapshot files, stated as
// interfaces (Wal and Snapshotter satisfy them structurally).
import type { ConfState, Entry, HardState, Snapshot } from '../raft/types.js';

export interface WalSnapshotMark {
  index: number;
  term: number;
  confState?: ConfState;
}

export interface WalLog {
  /** One write and at most one fsync per call. */
  save(hardState: HardState | undefined, entries: Entry[], sync: boolean): Promise<void>;
  saveSnapshot(mark: WalSnapshotMark): Promise<void> | void;
  releaseTo(index: number): Promise<void> | void;
  close(): Promise<void> | void;
}

export interface SnapshotStore {
  save(s: Snapshot): Promise<void> | void;
  purge(keep: number): Promise<unknown> | unknown;
}
