// The distributed mutex behind v3lockpb.Lock, with the semantics of etcd 3.4's
// concurrency.Mutex as v3lock drives it: each contender owns the key
// `name/<lease hex>`; the contender whose key was created first holds the
// lock, the others wait for the contender just ahead of them to go away.
import type {
  DeleteRangeResponse as DeleteOutcome,
  ResponseHeader as Header,
} from '../../pb/etcdserverpb/rpc.js';
import {
  checkedDelete,
  checkedTxn,
  contenderKey,
  contendersPrefix,
  createRevisionIs,
  deleteKey,
  firstCreated,
  getKey,
  getOp,
  headerOf,
  putOp,
  rangeKvs,
  sessionLease,
  throwIfAborted,
  txnRequest,
  waitDeletes,
} from './common.js';
import type { CoordinationKv } from './types.js';

export interface LockResult {
  /** Header of the response that made us the holder. */
  header: Header;
  /** The key that holds the lock while it exists; Unlock deletes it. */
  key: Buffer;
}

/**
 * Blocks until the lock `name` is held under `lease` (0: a fresh 60 s lease is
 * granted, as etcd's session does). If `signal` aborts or the wait fails after
 * our key was written, the key is deleted again before the error is thrown.
 *
 * A lease that already holds the key for `name` gets that key back (its
 * original create revision keeps its place in line).
 */
export async function lock(
  kv: CoordinationKv,
  name: Buffer,
  lease: bigint,
  signal: AbortSignal,
): Promise<LockResult> {
  throwIfAborted(signal);
  const held = await sessionLease(kv, lease);
  throwIfAborted(signal);
  const prefix = contendersPrefix(name);
  const key = contenderKey(prefix, held);
  const owner = getOp(firstCreated(prefix));
  // Create our key unless it exists; either way learn who is first in one round trip.
  const resp = await checkedTxn(
    kv,
    txnRequest(
      [createRevisionIs(key, 0)],
      [putOp(key, Buffer.alloc(0), held), owner],
      [getOp(getKey(key)), owner],
    ),
  );
  const header = headerOf(resp);
  let myRev = header.revision;
  if (!resp.succeeded) {
    const mine = rangeKvs(resp.responses[0])[0];
    if (mine !== undefined) myRev = mine.createRevision;
  }
  try {
    throwIfAborted(signal);
    const first = rangeKvs(resp.responses[1])[0];
    if (first === undefined || first.createRevision === myRev) return { header, key };
    return { header: await waitDeletes(kv, prefix, myRev - 1, signal), key };
  } catch (err) {
    // Leave no stale contender behind; a failure to delete is not the caller's error.
    await unlock(kv, key).catch(() => undefined);
    throw err;
  }
}

/** Releases a lock by deleting its key (v3lock's Unlock is a plain Delete). */
export function unlock(kv: CoordinationKv, key: Buffer): Promise<DeleteOutcome> {
  return checkedDelete(kv, deleteKey(key));
}
