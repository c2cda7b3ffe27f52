// The lease stage of the applier: grants and revokes leases (through raft, so
// every member holds the same leases), persists them in the backend's "lease"
// bucket in the same batch as the entry's index, and keeps the lessor's key
// attachments in step with what the store applied (from the events out-port).
import type { Lessor } from '../lease/index.js';
import type { MvccStore } from '../mvcc/index.js';
import { asBuffer, EMPTY_BYTES, type Event, EventType } from '../mvcc/types.js';
import type { RequestOp } from '../pb/etcdserverpb/rpc.js';
import { DelegatingStage } from './apply-stages.js';
import type { OpHandlers, OpRequests, OpResults } from './ops.js';

type LeaseStore = Pick<MvccStore, 'putAux' | 'deleteAux' | 'markApplied' | 'currentRevision'>;

export class LeaseStage extends DelegatingStage {
  constructor(
    next: OpHandlers,
    private readonly lessor: Lessor,
    private readonly store: LeaseStore,
    /** Monotonic milliseconds: only sets expiries, and only on the leader. */
    private readonly nowMs: () => number,
  ) {
    super(next);
  }

  override leaseGrant(i: number, r: OpRequests['leaseGrant']): OpResults['leaseGrant'] {
    const g = this.lessor.grant(r.ID, r.TTL, this.nowMs());
    this.store.putAux(g.put.bucket, g.put.key, g.put.value);
    this.store.markApplied(i);
    return { id: r.ID, ttl: g.lease.grantedTtl };
  }

  /** Forgets the lease and deletes every key attached to it at one revision (as etcd does). */
  override leaseRevoke(i: number, r: OpRequests['leaseRevoke']): OpResults['leaseRevoke'] {
    const { keys, del } = this.lessor.revoke(r.ID);
    this.store.deleteAux(del.bucket, del.key);
    if (keys.length === 0) {
      this.store.markApplied(i);
      return { revision: this.store.currentRevision() };
    }
    const success: RequestOp[] = keys.map((key) => ({
      request: {
        $case: 'requestDeleteRange',
        requestDeleteRange: { key: asBuffer(key), rangeEnd: EMPTY_BYTES, prevKv: false },
      },
    }));
    return { revision: this.next.txn(i, { compare: [], success, failure: [] }).rev };
  }

  /** Events out-port listener: a put moves its key to the lease it names, a delete frees it. */
  readonly onApplied = (_revision: number, events: readonly Event[]): void => {
    for (const e of events) {
      // A put event carries prevKv only while a watcher wants it; the lessor knows the old lease.
      const before = e.prevKv !== undefined ? e.prevKv.lease : this.lessor.leaseOf(e.kv.key);
      const after = e.type === EventType.PUT ? e.kv.lease : 0n;
      if (before === after) continue;
      if (before !== 0n) this.lessor.detach(before, e.kv.key);
      if (after !== 0n) this.lessor.attach(after, e.kv.key);
    }
  };
}
