// Reading records through the key index: the index says which revision holds a key, the backend
// holds the encoded record. Plain functions over both, since the store swaps its backend on
// defragment and writes reach them through a WriteTxn.

import { decodeKeyValue } from './kv-codec.js';
import { type Revision, revisionId } from './revision.js';
import type { StoreBackend } from './store-backend.js';
import { bytesToKey, type TreeIndex } from './tree-index.js';
import type { KeyValue } from './types.js';

/** The record at `rev`, which the index says exists: its absence is an invariant violation. */
export function readRecord(backend: StoreBackend, rev: Revision): KeyValue {
  const raw = backend.get(rev);
  // (No template literal in the hot path unless it fails.)
  if (raw === undefined) {
    throw new Error(
      `mvcc invariant violated: index points at ${revisionId(rev.main, rev.sub)}, missing from backend`,
    );
  }
  return decodeKeyValue(raw);
}

/** The key as of revision `atRev`, undefined when absent or deleted then. */
export function getKey(
  index: TreeIndex,
  backend: StoreBackend,
  key: Uint8Array,
  atRev: number,
): KeyValue | undefined {
  const at = index.get(bytesToKey(key), atRev);
  return at === undefined ? undefined : readRecord(backend, at.modified);
}
