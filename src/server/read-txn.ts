// A txn without writes is a read: etcd serves it like a linearizable range,
// without a raft entry. Evaluated synchronously against the current revision
// (nothing can be applied in between on Node's single thread), with the same
// compare and range semantics mvcc's txn uses.
import { evaluateCompare } from '../mvcc/compare.js';
import { isTxnReadOnly, rangeOp, txnOp, unpackOp } from '../mvcc/request-op.js';
import { emptyHeader, type ResponseOp, type TxnRequest } from '../mvcc/types.js';
import type { KvBackend } from './backend.js';

export { isTxnReadOnly };

interface ReadTxnResult {
  succeeded: boolean;
  responses: ResponseOp[];
}

function evaluate(backend: KvBackend, req: TxnRequest, rev: number): ReadTxnResult {
  const succeeded = (req.compare ?? []).every((c) =>
    evaluateCompare(c, backend.range({ key: c.key, rangeEnd: c.rangeEnd, revision: rev }).kvs),
  );
  const responses: ResponseOp[] = [];
  for (const op of (succeeded ? req.success : req.failure) ?? []) {
    const u = unpackOp(op);
    if (u === undefined) continue;
    if (u.kind === 'range') {
      const r = backend.range({ ...u.req, revision: u.req.revision || rev });
      responses.push(rangeOp({ header: emptyHeader(r.revision), kvs: r.kvs, more: r.more, count: r.count }));
    } else if (u.kind === 'txn') {
      // etcd leaves a nested txn's header revision at 0.
      responses.push(txnOp({ header: emptyHeader(0), ...evaluate(backend, u.req, rev) }));
    } else {
      throw new Error(`read-only txn holds a ${u.kind}`);
    }
  }
  return { succeeded, responses };
}

export function readOnlyTxn(backend: KvBackend, req: TxnRequest): ReadTxnResult & { rev: number } {
  const rev = backend.currentRevision();
  const run = () => evaluate(backend, req, rev);
  // One read transaction, as etcd's: the metrics count it as a txn when it ran several ranges.
  return { rev, ...(backend.readScope?.(run) ?? run()) };
}
