// The slice of the mvcc store the server uses, written down as an interface so
// the applier and read paths state exactly what they depend on (and tests can
// substitute a fake). MvccStore satisfies it structurally.
import type {
  CompactResult,
  DeleteRangeRequest,
  DeleteRangeResult,
  PutRequest,
  PutResult,
  RangeRequest,
  RangeResult,
  TxnRequest,
  TxnResult,
} from '../mvcc/types.js';

export interface KvBackend {
  /** Runs `read` as one read transaction (only a metrics view of the store implements it). */
  readScope?<T>(read: () => T): T;
  /** Index of the last raft entry whose effects are in the backend. */
  consistentIndex(): number;
  currentRevision(): number;
  compactedRevision(): number;
  range(req: RangeRequest): RangeResult;
  put(index: number, req: PutRequest): PutResult;
  deleteRange(index: number, req: DeleteRangeRequest): DeleteRangeResult;
  txn(index: number, req: TxnRequest): TxnResult;
  compact(index: number, rev: number): CompactResult;
  /** Records that entry `index` was applied without touching keys. */
  markApplied(index: number): void;
  /** Makes everything applied so far durable. */
  flush(): Promise<void> | void;
  sizeBytes(): number;
  sizeInUseBytes(): number;
  close(): Promise<void> | void;
}
