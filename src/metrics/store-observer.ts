// etcd counts key-value operations where its mvcc layer executes them
// (mvcc/metrics_txn.go): each range, put and delete-range, the bytes of put
// keys and values, and a txn only when one mvcc transaction executed more than
// one operation. A writing txn's top-level compares run in a read transaction of
// their own (they count as ranges, not towards the txn); a read-only txn's run in
// the same one. We count at the member's store interface, with a wrapper around
// the store object, so the store itself stays free of metrics.
import type {
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResult,
} from '../mvcc/types.js';

export interface StoreCounters {
  range(n: number): void;
  put(n: number, bytes: number): void;
  delete(n: number): void;
  txn(): void;
}

/** The store methods counted; everything else passes through untouched. */
interface CountedStore {
  range(req: RangeRequest): unknown;
  put(index: number, req: PutRequest): unknown;
  deleteRange(index: number, req: DeleteRangeRequest): unknown;
  txn(index: number, req: TxnRequest): TxnResult;
  /** Runs `read` as one read transaction (a read-only txn on the read path). */
  readScope<T>(read: () => T): T;
}

function putOf(op: RequestOp): PutRequest | undefined {
  if (op.requestPut !== undefined) return op.requestPut;
  return op.request?.$case === 'requestPut' ? op.request.requestPut : undefined;
}

/** etcd's !isTxnReadOnly: a put or delete in either branch, nested txns included. */
function hasWrites(req: TxnRequest): boolean {
  return [...(req.success ?? []), ...(req.failure ?? [])].some((op) => {
    const kind = op.request?.$case;
    if (op.requestPut !== undefined || op.requestDeleteRange !== undefined) return true;
    if (kind === 'requestPut' || kind === 'requestDeleteRange') return true;
    const nested = op.requestTxn ?? (kind === 'requestTxn' ? op.request?.requestTxn : undefined);
    return nested !== undefined && hasWrites(nested);
  });
}

function putBytes(req: PutRequest): number {
  return req.key.length + (req.value?.length ?? 0);
}

interface TxnTally {
  ranges: number;
  puts: number;
  deletes: number;
  putBytes: number;
}

/** Adds up what a txn executed: its compares, and the ops of the branch taken (nested txns too). */
function tallyTxn(req: TxnRequest, succeeded: boolean, responses: readonly ResponseOp[], t: TxnTally): void {
  t.ranges += req.compare?.length ?? 0;
  tallyOps(req, succeeded, responses, t);
}

function tallyOps(req: TxnRequest, succeeded: boolean, responses: readonly ResponseOp[], t: TxnTally): void {
  const branch = (succeeded ? req.success : req.failure) ?? [];
  responses.forEach((r, i) => {
    const op = branch[i];
    switch (r.response.$case) {
      case 'responseRange':
        t.ranges++;
        break;
      case 'responsePut': {
        t.puts++;
        const put = op === undefined ? undefined : putOf(op);
        if (put !== undefined) t.putBytes += putBytes(put);
        break;
      }
      case 'responseDeleteRange':
        t.deletes++;
        break;
      case 'responseTxn': {
        const nested =
          op?.requestTxn ?? (op?.request?.$case === 'requestTxn' ? op.request.requestTxn : undefined);
        if (nested !== undefined) {
          tallyTxn(nested, r.response.responseTxn.succeeded, r.response.responseTxn.responses, t);
        }
        break;
      }
    }
  });
}

/**
 * `store` seen through a proxy that counts ranges, puts, deletes and txns as they
 * succeed. Other members of the store are the store's own (bound to it).
 */
export function countStoreOps<S extends object & Omit<CountedStore, 'readScope'>>(
  store: S,
  counters: StoreCounters,
): S {
  /** Ranges run in the current read scope, when one is open. */
  let scopeRanges: number | undefined;
  const counted: CountedStore = {
    range(req) {
      const out = store.range(req);
      counters.range(1);
      if (scopeRanges !== undefined) scopeRanges++;
      return out;
    },
    // etcd runs a read-only txn in one mvcc read transaction, counted as a txn when it
    // executed more than one range (its compares included), as for any other txn.
    readScope(read) {
      if (scopeRanges !== undefined) return read();
      scopeRanges = 0;
      try {
        return read();
      } finally {
        if (scopeRanges > 1) counters.txn();
        scopeRanges = undefined;
      }
    },
    put(index, req) {
      const out = store.put(index, req);
      counters.put(1, putBytes(req));
      return out;
    },
    deleteRange(index, req) {
      const out = store.deleteRange(index, req);
      counters.delete(1);
      return out;
    },
    txn(index, req) {
      const out = store.txn(index, req);
      const t: TxnTally = { ranges: 0, puts: 0, deletes: 0, putBytes: 0 };
      tallyOps(req, out.succeeded, out.responses, t);
      const compares = req.compare?.length ?? 0;
      const writes = hasWrites(req);
      // A writing txn's compares ran in a read transaction of their own.
      if (t.ranges + t.puts + t.deletes + (writes ? 0 : compares) > 1) counters.txn();
      t.ranges += compares;
      if (t.ranges > 0) counters.range(t.ranges);
      if (t.puts > 0) counters.put(t.puts, t.putBytes);
      if (t.deletes > 0) counters.delete(t.deletes);
      return out;
    },
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      if (prop in counted) return counted[prop as keyof CountedStore];
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let fn = bound.get(prop);
      if (fn === undefined) {
        fn = (value as (...args: unknown[]) => unknown).bind(target);
        bound.set(prop, fn);
      }
      return fn;
    },
  });
}
