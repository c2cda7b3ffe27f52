// Request fields in the store's terms: a range_end as the key index's RangeEnd, a lease as the
// bigint the records hold. Shared by reads, writes and txn planning so all read them alike.

import { bytesToKey, type RangeEnd } from './tree-index.js';

/** Converts a request's range_end: empty = the key alone, "\0" = every key >= key. */
export function toRangeEnd(rangeEnd: Uint8Array | undefined): RangeEnd {
  if (rangeEnd === undefined || rangeEnd.length === 0) return null;
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return '';
  return bytesToKey(rangeEnd);
}

/** A request's lease id (an Int64Like: number or bigint) as records hold it; 0n = no lease. */
export function toLease(lease: number | bigint | undefined): bigint {
  if (lease === undefined) return 0n;
  return typeof lease === 'bigint' ? lease : BigInt(lease);
}
