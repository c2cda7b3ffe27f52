// etcd's backend-quota cost estimates: what a write may add to the backend.
import type { PutRequest, RequestOp, TxnRequest } from '../mvcc/types.js';
import { Errors } from './errors.js';

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

export interface QuotaDeps {
  quotaBytes: number;
  backendSizeBytes(): number;
  /** Whether this member's NOSPACE alarm is raised already. */
  ownNoSpaceRaised(): boolean;
  /** Raises this member's NOSPACE alarm through raft. */
  raiseNoSpace(): Promise<unknown>;
  warn(msg: string, fields: Record<string, number>): void;
}

/**
 * etcd's backend quota: a write that would take the backend past the quota
 * raises the NOSPACE alarm (through raft, so every member sees it) and fails.
 * A write with no cost (a read-only txn) always passes. Checked synchronously
 * first: an awaited check would cost every write a promise and a microtask.
 */
export class BackendQuota {
  constructor(private readonly d: QuotaDeps) {}

  exceededBy(cost: number): boolean {
    return cost !== 0 && this.d.backendSizeBytes() + cost >= this.d.quotaBytes;
  }

  /** Raises this member's NOSPACE alarm if it is not raised yet; always throws etcd's error. */
  async refuse(): Promise<never> {
    if (!this.d.ownNoSpaceRaised()) {
      this.d.warn('database space exceeded; raising NOSPACE alarm', {
        'quota-size-bytes': this.d.quotaBytes,
        'backend-size-bytes': this.d.backendSizeBytes(),
      });
      await this.d.raiseNoSpace();
    }
    throw Errors.noSpace();
  }
}
