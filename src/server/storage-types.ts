// What the server needs from the WAL and the snapshot files, stated as
// interfaces (Wal and Snapshotter satisfy them structurally).
import type { ConfState, Entry, HardState, Snapshot } from '../raft/types.js';

export interface WalSnapshotMark {
  index: number;
  term: number;
  confState?: ConfState;
}

export interface WalLog {
  /**
   * Persists a Ready's hard state and entries; resolves once they are on disk (synced when
   * `sync`). The ready loop issues a save while earlier ones are still in flight (pipelining):
   * saves must land, and resolve, in call order.
   */
  save(hardState: HardState | undefined, entries: Entry[], sync: boolean): Promise<void>;
  /**
   * Whether small synced writes may block this thread (fastest when nothing else is waiting)
   * or must go to the background (a leader of several voters has acknowledgements to take
   * while its own write runs). Optional: a WAL may have only one way.
   */
  setInlineSync?(allowed: boolean): void;
  saveSnapshot(mark: WalSnapshotMark): Promise<void> | void;
  releaseTo(index: number): Promise<void> | void;
  close(): Promise<void> | void;
}

export interface SnapshotStore {
  save(s: Snapshot): Promise<void> | void;
  purge(keep: number): Promise<unknown> | unknown;
}
