// Which permissions a KV request needs, as etcd 3.4 asks for them: a put needs
// write on its key (and read with prev_kv), a delete write on its range (and
// read with prev_kv), a range read on its range, and a txn everything its
// compares read and everything on BOTH branches does, whichever branch runs.
import type {
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from '../pb/etcdserverpb/rpc.js';
import type { AuthInfo, AuthStore } from './store.js';

const EMPTY = new Uint8Array(0);

/** No credentials: etcd's empty AuthInfo (refused with "user name is empty" while auth is on). */
export const ANONYMOUS: AuthInfo = Object.freeze({ username: '', revision: 0 });

export function checkPutRequest(s: AuthStore, who: AuthInfo, r: PutRequest): void {
  s.checkPut(who, r.key);
  if (r.prevKv) s.checkRange(who, r.key, EMPTY);
}

export function checkDeleteRangeRequest(s: AuthStore, who: AuthInfo, r: DeleteRangeRequest): void {
  s.checkDeleteRange(who, r.key, r.rangeEnd);
  if (r.prevKv) s.checkRange(who, r.key, r.rangeEnd);
}

export function checkRangeRequest(s: AuthStore, who: AuthInfo, r: RangeRequest): void {
  s.checkRange(who, r.key, r.rangeEnd);
}

function checkOps(s: AuthStore, who: AuthInfo, ops: readonly RequestOp[]): void {
  for (const op of ops) {
    const r = op.request;
    switch (r?.$case) {
      case 'requestRange':
        s.checkRange(who, r.requestRange.key, r.requestRange.rangeEnd);
        break;
      case 'requestPut':
        // etcd checks only the write here, not prev_kv's read.
        s.checkPut(who, r.requestPut.key);
        break;
      case 'requestDeleteRange':
        if (r.requestDeleteRange.prevKv) {
          s.checkRange(who, r.requestDeleteRange.key, r.requestDeleteRange.rangeEnd);
        }
        s.checkDeleteRange(who, r.requestDeleteRange.key, r.requestDeleteRange.rangeEnd);
        break;
      case 'requestTxn':
        // etcd 3.4.23 lets nested txns through unchecked (fixed in later etcd releases); not here.
        checkTxnRequest(s, who, r.requestTxn);
        break;
      default:
        break;
    }
  }
}

/** etcd's checkTxnAuth: compares, then the success ops, then the failure ops. */
export function checkTxnRequest(s: AuthStore, who: AuthInfo, r: TxnRequest): void {
  for (const c of r.compare) s.checkRange(who, c.key, c.rangeEnd);
  checkOps(s, who, r.success);
  checkOps(s, who, r.failure);
}

/**
 * What a watch on [key, rangeEnd) must be allowed to read; an empty key is
 * "\0", the smallest key, as etcd's watch server makes it. etcd 3.4 then also
 * turns a from-key range end ("\0") into an empty one, so it checks a from-key
 * watch as a watch of its first key only and lets it see keys the user may
 * not read; here a from-key watch needs read on every key from `key` on.
 */
export function checkWatchCreate(s: AuthStore, who: AuthInfo, key: Uint8Array, rangeEnd: Uint8Array): void {
  s.checkRange(who, key.length === 0 ? Uint8Array.of(0) : key, rangeEnd);
}
