// Applying one committed v2 request to the store, as etcd 3.4's applierV2store
// does (apply_v2.go): POST creates a unique key, PUT picks create / update /
// compare-and-swap / set from prevExist, prevIndex and prevValue, DELETE
// deletes or compares-and-deletes, QGET reads through raft, SYNC expires TTLs.
import { V2Error } from './errors.js';
import type { V2Event } from './event.js';
import type { TtlOptions, V2Store } from './store.js';

/** The fields of etcd's v2 Request that applying reads (src/server/v2/request.ts has the full message). */
export interface V2ApplyRequest {
  method: string;
  path: string;
  val: string;
  dir: boolean;
  prevValue: string;
  prevIndex: number;
  prevExist?: boolean | undefined;
  /** Unix nanoseconds, 0 for none. */
  expiration: bigint;
  recursive: boolean;
  sorted: boolean;
  /** SYNC's cutoff, Unix nanoseconds. */
  time: bigint;
  refresh?: boolean | undefined;
}

export type V2ApplyResult =
  | { kind: 'event'; event: V2Event }
  | { kind: 'error'; error: V2Error }
  /** SYNC: nothing to answer. */
  | { kind: 'none' }
  /** etcd's ErrUnknownMethod. */
  | { kind: 'unknownMethod' };

export function ttlOptionsOf(r: V2ApplyRequest): TtlOptions {
  return {
    refresh: r.refresh === true,
    expireTime: r.expiration !== 0n ? r.expiration : undefined,
  };
}

/** Applies `r` to `store`; `now` only shapes the TTLs shown in the answer. */
export function applyV2Request(store: V2Store, r: V2ApplyRequest, now: bigint): V2ApplyResult {
  try {
    switch (r.method) {
      case 'POST':
        return event(store.create(r.path, r.dir, r.val, true, ttlOptionsOf(r), now));
      case 'PUT':
        return event(put(store, r, now));
      case 'DELETE':
        if (r.prevIndex > 0 || r.prevValue !== '') {
          return event(store.compareAndDelete(r.path, r.prevValue, r.prevIndex, now));
        }
        return event(store.delete(r.path, r.dir, r.recursive, now));
      case 'QGET':
        return event(store.get(r.path, r.recursive, r.sorted, now));
      case 'SYNC':
        store.deleteExpiredKeys(r.time, now);
        return { kind: 'none' };
      default:
        return { kind: 'unknownMethod' };
    }
  } catch (err) {
    if (err instanceof V2Error) return { kind: 'error', error: err };
    throw err;
  }
}

function event(e: V2Event): V2ApplyResult {
  return { kind: 'event', event: e };
}

function put(store: V2Store, r: V2ApplyRequest, now: bigint): V2Event {
  const opts = ttlOptionsOf(r);
  if (r.prevExist !== undefined) {
    if (!r.prevExist) return store.create(r.path, r.dir, r.val, false, opts, now);
    if (r.prevIndex === 0 && r.prevValue === '') return store.update(r.path, r.val, opts, now);
    return store.compareAndSwap(r.path, r.prevValue, r.prevIndex, r.val, opts, now);
  }
  if (r.prevIndex > 0 || r.prevValue !== '') {
    return store.compareAndSwap(r.path, r.prevValue, r.prevIndex, r.val, opts, now);
  }
  return store.set(r.path, r.dir, r.val, opts, now);
}
