// etcd's backend-quota cost estimates: what a write may add to the backend.
import type { PutRequest, RequestOp, TxnRequest } from '../mvcc/types.js';

/** etcd's estimate of a key's metadata cost in the backend. */
export const QUOTA_KV_OVERHEAD = 256;

export function putCost(req: PutRequest): number {
  return QUOTA_KV_OVERHEAD + req.key.length + (req.value?.length ?? 0);
}

function opPutCost(op: RequestOp): number {
  const u = op.request;
  const put = u?.$case === 'requestPut' ? u.requestPut : op.requestPut;
  return put === undefined ? 0 : putCost(put);
}

/** The bigger branch's puts; nested txns count nothing (as in etcd). 0 means the txn cannot grow the backend. */
export function txnCost(req: TxnRequest): number {
  const sum = (ops: RequestOp[] | undefined) => (ops ?? []).reduce((n, op) => n + opPutCost(op), 0);
  return Math.max(sum(req.success), sum(req.failure));
}
