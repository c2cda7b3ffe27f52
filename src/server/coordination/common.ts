// Pieces the mutex and the election share: the key layout, the "who is first"
// queries, the lease a call runs under, and waiting for older keys to go away.
// Key layout and query shapes follow etcd 3.4's clientv3/concurrency so that
// keys written by Go clients and by us order and exclude each other.

import { EventType, type KeyValue } from '../../mvcc/types.js';
import { validateDeleteRangeRequest, validateRangeRequest, validateTxnRequest } from '../../mvcc/validate.js';
import type {
  DeleteRangeResponse as DeleteOutcome,
  ResponseHeader as Header,
  RangeResponse as RangeOutcome,
  TxnResponse as TxnOutcome,
} from '../../pb/etcdserverpb/rpc.js';
import {
  type Compare,
  Compare_CompareResult,
  Compare_CompareTarget,
  DeleteRangeRequest,
  RangeRequest,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type RequestOp,
  type ResponseOp,
  TxnRequest,
} from '../../pb/etcdserverpb/rpc.js';
import { CoordinationErrors, type CoordinationKv } from './types.js';

/** TTL etcd's concurrency sessions grant when no lease is given (defaultSessionTTL). */
export const SESSION_TTL_SECONDS = 60;

const NO_BYTES = Buffer.alloc(0);
const SLASH = Buffer.from('/');

/** `name + "/"`: the prefix every contender's key lives under. */
export function contendersPrefix(name: Uint8Array): Buffer {
  return Buffer.concat([name, SLASH]);
}

/**
 * A contender's key: the prefix and the lease id printed the way Go's `%x`
 * prints an int64 (lower-case hex, a minus sign for negative ids).
 */
export function contenderKey(prefix: Buffer, lease: bigint): Buffer {
  return Buffer.concat([prefix, Buffer.from(lease.toString(16), 'latin1')]);
}

/** End of the range holding every key that starts with `prefix` (clientv3's WithPrefix). */
export function prefixEnd(prefix: Uint8Array): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    const b = end[i] as number;
    if (b < 0xff) {
      end[i] = b + 1;
      return end.subarray(0, i + 1);
    }
  }
  // Only 0xff bytes (or nothing): every key from `prefix` on.
  return Buffer.from([0]);
}

/** The contender created first under `prefix` (clientv3's WithFirstCreate: by create revision, limit 1). */
export function firstCreated(prefix: Buffer): RangeRequest {
  return RangeRequest.create({
    key: prefix,
    rangeEnd: prefixEnd(prefix),
    sortOrder: RangeRequest_SortOrder.ASCEND,
    sortTarget: RangeRequest_SortTarget.CREATE,
    limit: 1,
  });
}

/** The youngest contender created at or before `maxCreateRevision` (WithLastCreate + WithMaxCreateRev). */
function lastCreatedUpTo(prefix: Buffer, maxCreateRevision: number): RangeRequest {
  return RangeRequest.create({
    key: prefix,
    rangeEnd: prefixEnd(prefix),
    sortOrder: RangeRequest_SortOrder.DESCEND,
    sortTarget: RangeRequest_SortTarget.CREATE,
    limit: 1,
    maxCreateRevision,
  });
}

/** Compare "create_revision(key) == rev", as clientv3's Compare(CreateRevision(key), "=", rev) encodes it. */
export function createRevisionIs(key: Buffer, rev: number): Compare {
  return {
    key,
    rangeEnd: NO_BYTES,
    result: Compare_CompareResult.EQUAL,
    target: Compare_CompareTarget.CREATE,
    targetUnion: { $case: 'createRevision', createRevision: BigInt(rev) },
  };
}

/** A txn with every field set, as it would arrive decoded from the wire. */
export function txnRequest(compare: Compare[], success: RequestOp[], failure: RequestOp[]): TxnRequest {
  return TxnRequest.create({ compare, success, failure });
}

export function putOp(key: Buffer, value: Buffer, lease: bigint): RequestOp {
  return {
    request: {
      $case: 'requestPut',
      requestPut: { key, value, lease, prevKv: false, ignoreValue: false, ignoreLease: false },
    },
  };
}

export function getOp(req: RangeRequest): RequestOp {
  return { request: { $case: 'requestRange', requestRange: req } };
}

/** Get of exactly one key. */
export function getKey(key: Buffer): RangeRequest {
  return RangeRequest.create({ key });
}

export function deleteKey(key: Buffer): DeleteRangeRequest {
  return DeleteRangeRequest.create({ key });
}

export function deleteOp(key: Buffer): RequestOp {
  return { request: { $case: 'requestDeleteRange', requestDeleteRange: deleteKey(key) } };
}

/** The key-values of a range response inside a txn response (empty if it is not one). */
export function rangeKvs(op: ResponseOp | undefined): KeyValue[] {
  const r = op?.response;
  return r?.$case === 'responseRange' ? r.responseRange.kvs : [];
}

/** The header every response of the member carries (the generated type leaves it optional). */
export function headerOf(resp: { header?: Header | undefined }): Header {
  if (resp.header === undefined) throw new Error('coordination: the member answered without a header');
  return resp.header;
}

// The KV service checks requests before they reach the server (v3rpc's
// checkTxnRequest and friends); the in-process client etcd uses goes through
// those checks, so the recipes make them too, whatever the kv below does.

export async function checkedTxn(kv: CoordinationKv, req: TxnRequest): Promise<TxnOutcome> {
  validateTxnRequest(req);
  return kv.txn(req);
}

export async function checkedRange(kv: CoordinationKv, req: RangeRequest): Promise<RangeOutcome> {
  validateRangeRequest(req);
  return kv.range(req);
}

export async function checkedDelete(kv: CoordinationKv, req: DeleteRangeRequest): Promise<DeleteOutcome> {
  validateDeleteRangeRequest(req);
  return kv.deleteRange(req);
}

/**
 * The lease a call's session runs under: the one given, or — for 0, etcd's
 * NoLease — a fresh one with the session TTL, as concurrency.NewSession grants.
 */
export async function sessionLease(kv: CoordinationKv, lease: bigint): Promise<bigint> {
  return lease === 0n ? kv.grantLease(SESSION_TTL_SECONDS) : lease;
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}

/** A signal that aborts with `parent`; `dispose()` aborts it and detaches it from the parent. */
export function childSignal(parent: AbortSignal): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onParentAbort = (): void => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    dispose: () => {
      parent.removeEventListener('abort', onParentAbort);
      controller.abort();
    },
  };
}

/**
 * Watches `key` from `fromRevision` until a DELETE event for it arrives. Fails
 * with the watch's error, with the abort reason, or — when the watch just
 * stops — with etcd's "lost watcher waiting for delete".
 */
async function waitDelete(
  kv: CoordinationKv,
  key: Buffer,
  fromRevision: number,
  signal: AbortSignal,
): Promise<void> {
  const child = childSignal(signal);
  try {
    for await (const batch of kv.watch(key, NO_BYTES, fromRevision, child.signal)) {
      if (batch.events.some((ev) => ev.type === EventType.DELETE)) return;
    }
  } catch (err) {
    throwIfAborted(signal);
    throw err;
  } finally {
    child.dispose();
  }
  throwIfAborted(signal);
  throw CoordinationErrors.lostWatcher();
}

/**
 * Waits until no key under `prefix` has a create revision <= maxCreateRevision.
 * Each round waits for the youngest such key only (the ones before it are the
 * contenders it is itself waiting for), then looks again. Returns the header of
 * the read that found none.
 */
export async function waitDeletes(
  kv: CoordinationKv,
  prefix: Buffer,
  maxCreateRevision: number,
  signal: AbortSignal,
): Promise<Header> {
  const query = lastCreatedUpTo(prefix, maxCreateRevision);
  for (;;) {
    throwIfAborted(signal);
    const resp = await checkedRange(kv, query);
    throwIfAborted(signal);
    const header = headerOf(resp);
    const youngest = resp.kvs[0];
    if (youngest === undefined) return header;
    await waitDelete(kv, youngest.key, header.revision, signal);
  }
}
