// Txn planning: etcd decides every branch of a txn (nested ones included) against the store as
// it was before the txn, checks the chosen ops, and only then writes. Planning only reads, so
// these functions see the store through TxnReads; applying writes through the request's WriteTxn.

import { evaluateCompare } from './compare.js';
import { assertInvariant, MvccError } from './errors.js';
import { toLease, toRangeEnd } from './request-fields.js';
import { deleteRangeOp, putOp, rangeOp, txnOp, type UnpackedOp, unpackOp } from './request-op.js';
import type { RangeEnd } from './tree-index.js';
import {
  emptyHeader,
  type KeyValue,
  type RangeRequest,
  type RangeResult,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from './types.js';
import type { WriteTxn } from './write-txn.js';

/** What planning and applying a txn read from the store (the store hands in an adapter). */
export interface TxnReads {
  currentRevision(): number;
  compactedRevision(): number;
  /** Every live kv in [key, end) at the current revision: what a compare looks at. */
  kvsInRange(key: Uint8Array, end: RangeEnd): KeyValue[];
  /** The key at the current revision, undefined when absent. */
  currentKey(key: Uint8Array): KeyValue | undefined;
  /** Throws lease-not-found for a lease the lessor does not know (0n = no lease). */
  checkLease(lease: bigint): void;
  /** A range request served as if the store were at revision `curRev`. */
  rangeAt(req: RangeRequest, curRev: number): RangeResult;
}

/** A txn's branch decisions, all taken against the store as it was before the txn. */
export interface TxnPlan {
  succeeded: boolean;
  ops: TxnRequest['success'] & {};
  /** Plans of nested txns, by position in `ops`. */
  nested: Map<number, TxnPlan>;
}

export function planTxn(store: TxnReads, req: TxnRequest): TxnPlan {
  const succeeded = (req.compare ?? []).every((c) =>
    evaluateCompare(c, store.kvsInRange(c.key, toRangeEnd(c.rangeEnd))),
  );
  const ops = (succeeded ? req.success : req.failure) ?? [];
  const nested = new Map<number, TxnPlan>();
  ops.forEach((op, i) => {
    const u = unpackOp(op);
    if (u?.kind === 'txn') nested.set(i, planTxn(store, u.req));
  });
  return { succeeded, ops, nested };
}

/** Visits the ops the plan chose, nested txns flattened into their own chosen ops. */
function forEachPlannedOp(plan: TxnPlan, visit: (op: UnpackedOp | undefined) => void): void {
  plan.ops.forEach((op, i) => {
    const child = plan.nested.get(i);
    if (child) forEachPlannedOp(child, visit);
    else visit(unpackOp(op));
  });
}

/** etcd checks the chosen puts against the pre-txn store before writing anything. */
export function checkPlanPuts(store: TxnReads, plan: TxnPlan): void {
  forEachPlannedOp(plan, (u) => {
    if (u?.kind !== 'put') return;
    if ((u.req.ignoreValue || u.req.ignoreLease) && store.currentKey(u.req.key) === undefined) {
      throw new MvccError('key-not-found');
    }
    store.checkLease(toLease(u.req.lease));
  });
}

/** Ranges at an explicit revision must be readable: not in the future, not compacted. */
export function checkPlanRanges(store: TxnReads, plan: TxnPlan): void {
  forEachPlannedOp(plan, (u) => {
    if (u?.kind !== 'range') return;
    const rev = u.req.revision ?? 0;
    if (rev === 0) return;
    if (rev > store.currentRevision()) throw new MvccError('future-rev');
    if (rev < store.compactedRevision()) throw new MvccError('compacted');
  });
}

/** Runs the planned ops in order; the response headers carry the revisions etcd reports. */
export function applyPlan(store: TxnReads, tw: WriteTxn, plan: TxnPlan): TxnResponse {
  const responses: ResponseOp[] = [];
  plan.ops.forEach((op, i) => {
    const u = unpackOp(op);
    if (u === undefined) return;
    switch (u.kind) {
      case 'range': {
        const r = store.rangeAt(u.req, tw.readRev());
        responses.push(
          rangeOp({ header: emptyHeader(r.revision), kvs: r.kvs, more: r.more, count: r.count }),
        );
        return;
      }
      case 'put': {
        const prevKv = tw.put(u.req);
        responses.push(putOp({ header: emptyHeader(tw.beginRev + 1), ...(prevKv ? { prevKv } : {}) }));
        return;
      }
      case 'deleteRange': {
        const { deleted, prevKvs } = tw.deleteRange(u.req);
        responses.push(deleteRangeOp({ header: emptyHeader(tw.readRev()), deleted, prevKvs }));
        return;
      }
      case 'txn': {
        const child = plan.nested.get(i);
        assertInvariant(child !== undefined, 'nested txn without a plan');
        // etcd leaves a nested txn's header revision at 0.
        responses.push(txnOp(applyPlan(store, tw, child)));
        return;
      }
    }
  });
  return { header: emptyHeader(0), succeeded: plan.succeeded, responses };
}
