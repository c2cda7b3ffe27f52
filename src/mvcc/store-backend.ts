// What the store needs from its backend: the LMDB file (backend.ts) in production, the
// in-memory MemoryBackend (memory-backend.ts) under the simulator. Semantics both keep:
// - writes collect in a batch that reads see at once; commit() writes the batch as one unit
//   (visible to a restarted process, not yet durable); flush() commits and makes it durable;
// - a batch only ends between applied entries, so whatever survives a crash is a prefix of the
//   applied entries whose last index is the stored consistent_index;
// - records are keyed by revision (revision.ts) and scanned in revision order.

import type { BackendReadView } from './read-view.js';
import type { Revision } from './revision.js';

export type MetaName = 'consistent_index' | 'scheduledCompactRev' | 'finishedCompactRev';

export interface StoredRecord {
  rev: Revision;
  tombstone: boolean;
  value: Uint8Array;
}

export interface StoreBackend {
  /** Where it lives, for logs: the file's path, or a MemoryBackend's name. */
  readonly path: string;

  /** The encoded KeyValue stored at `rev` (tombstones excluded), or undefined. */
  get(rev: Revision): Uint8Array | undefined;
  /** Adds a record to the current batch. Records must arrive in increasing revision order. */
  putRecord(rev: Revision, tombstone: boolean, value: Uint8Array): void;
  setMeta(name: MetaName, value: number): void;
  getMeta(name: MetaName): number | undefined;
  /** Writes (or, with null, deletes) `key` in side bucket `bucket` as part of the current batch. */
  setAux(bucket: string, key: Uint8Array, value: Uint8Array | null): void;
  getAux(bucket: string, key: Uint8Array): Uint8Array | undefined;
  /** Every entry of a side bucket, in key byte order, batch included. */
  scanAux(bucket: string): [Uint8Array, Uint8Array][];

  /** Called after each applied entry: commits when the batch is full. */
  endEntry(): void;
  pendingRecords(): number;
  /** Writes the batch as one unit: a restarted process sees it; a power loss may not keep it. */
  commit(): void;
  /** Commits the batch and waits until everything committed is durable. */
  flush(): Promise<void>;

  /**
   * Visits records with fromMain <= main < toMain in revision order (committed, then the batch,
   * whose revisions are all newer). Stop by returning false.
   */
  scan(fromMain: number, toMain: number, visit: (rec: StoredRecord) => boolean): void;
  /** Commits the batch and opens a consistent read-only view of everything committed. */
  readView(): BackendReadView;
  /** Bulk load for imports: records as they are, committed at once, bypassing the batch. */
  loadRecords(records: StoredRecord[]): void;
  /** Committed record keys with main <= maxMain, after `after` (exclusive), at most `limit`. */
  committedKeysUpTo(maxMain: number, after: Buffer | undefined, limit: number): Buffer[];
  /** Deletes committed records and sets meta values in one commit. */
  deleteCommitted(keys: Buffer[], meta?: [MetaName, number][]): void;

  /** Writes a consistent, compacted copy of everything committed to the new file `destPath`. */
  copyTo(destPath: string): Promise<void>;
  /** Drops free space (etcd's defragment); returns the backend to use from now on. */
  defragmented(): Promise<StoreBackend>;
  /** Takes the content of the backend file at `sourcePath` in place of ours; returns the backend to use. */
  replacedBy(sourcePath: string): Promise<StoreBackend>;
  /** Takes the content of `source` (same kind, closed by this) in place of ours; returns the backend to use. */
  replacedWith(source: StoreBackend): Promise<StoreBackend>;

  /** Bytes the backend occupies (etcd's db size; does not shrink before a defragment). */
  sizeBytes(): number;
  /** Bytes holding live data (etcd's db size in use), approximately. */
  sizeInUseBytes(): number;
  /** Commits, makes durable and closes. */
  close(): Promise<void>;
}
