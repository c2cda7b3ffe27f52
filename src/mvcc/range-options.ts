// RangeRequest options applied around the raw index read, following etcd 3.4's
// applier: the store is asked for limit+1 keys only when neither sorting nor a
// revision filter is requested (otherwise for everything); filters, sort and the
// limit cut are then applied here. `count` stays the number of keys in the range
// before any filter or limit.

import { EMPTY_BYTES, type KeyValue, type RangeRequest, SortOrder, SortTarget } from './types.js';

/** How many records to fetch from the store for `req` (0 = all). */
export function fetchLimit(req: RangeRequest): number {
  const limit = req.limit ?? 0;
  const needsAll =
    (req.sortOrder ?? SortOrder.NONE) !== SortOrder.NONE ||
    (req.minModRevision ?? 0) !== 0 ||
    (req.maxModRevision ?? 0) !== 0 ||
    (req.minCreateRevision ?? 0) !== 0 ||
    (req.maxCreateRevision ?? 0) !== 0;
  if (needsAll) return 0;
  // One extra record tells whether there is more.
  return limit > 0 ? limit + 1 : 0;
}

function applyFilters(req: RangeRequest, kvs: KeyValue[]): KeyValue[] {
  const maxMod = req.maxModRevision ?? 0;
  const minMod = req.minModRevision ?? 0;
  const maxCreate = req.maxCreateRevision ?? 0;
  const minCreate = req.minCreateRevision ?? 0;
  if (maxMod === 0 && minMod === 0 && maxCreate === 0 && minCreate === 0) return kvs;
  return kvs.filter(
    (kv) =>
      (maxMod === 0 || kv.modRevision <= maxMod) &&
      (minMod === 0 || kv.modRevision >= minMod) &&
      (maxCreate === 0 || kv.createRevision <= maxCreate) &&
      (minCreate === 0 || kv.createRevision >= minCreate),
  );
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.length),
    Buffer.from(b.buffer, b.byteOffset, b.length),
  );
}

function comparatorFor(target: number): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case SortTarget.VERSION:
      return (a, b) => a.version - b.version;
    case SortTarget.CREATE:
      return (a, b) => a.createRevision - b.createRevision;
    case SortTarget.MOD:
      return (a, b) => a.modRevision - b.modRevision;
    case SortTarget.VALUE:
      return (a, b) => compareBytes(a.value, b.value);
    default:
      return (a, b) => compareBytes(a.key, b.key);
  }
}

/**
 * The store returns keys in ascending key order, so etcd sorts by default (ascending)
 * only when the target is not KEY; an explicit order always sorts.
 */
export function effectiveSortOrder(req: RangeRequest): number {
  const order = req.sortOrder ?? SortOrder.NONE;
  const target = req.sortTarget ?? SortTarget.KEY;
  if (order === SortOrder.NONE && target !== SortTarget.KEY) return SortOrder.ASCEND;
  return order;
}

export interface FinishedRange {
  kvs: KeyValue[];
  more: boolean;
}

/** Filters, sorts, cuts to the limit and strips values as `req` asks. `kvs` may be reordered. */
export function finishRange(req: RangeRequest, kvs: KeyValue[]): FinishedRange {
  let out = applyFilters(req, kvs);
  const order = effectiveSortOrder(req);
  if (order === SortOrder.ASCEND || order === SortOrder.DESCEND) {
    const cmp = comparatorFor(req.sortTarget ?? SortTarget.KEY);
    out.sort(order === SortOrder.ASCEND ? cmp : (a, b) => cmp(b, a));
  }
  const limit = req.limit ?? 0;
  let more = false;
  if (limit > 0 && out.length > limit) {
    out = out.slice(0, limit);
    more = true;
  }
  if (req.keysOnly) {
    for (const kv of out) kv.value = EMPTY_BYTES;
  }
  return { kvs: out, more };
}
