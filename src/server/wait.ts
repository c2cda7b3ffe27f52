// Requests waiting for their raft entry to be applied, keyed by request id.
// The applier resolves a waiter with the result of applying the entry; a
// request that gives up (timeout, shutdown) removes its waiter so the maps
// never hold more than `maxPending` waiters.
//
// Waiters are kept per request kind: register() for a put yields a
// Promise<PutResult>, and trigger() for a put only accepts a PutResult, so
// the compiler checks the whole round trip with no cast.
import type { OpKind, OpResults } from './ops.js';

export class TooManyWaitersError extends Error {}

interface Waiter<K extends OpKind> {
  resolve(value: OpResults[K]): void;
  reject(err: Error): void;
}

type WaitersByKind = { [K in OpKind]: Map<bigint, Waiter<K>> };

export class WaitRegistry {
  private readonly byKind: WaitersByKind = {
    put: new Map(),
    deleteRange: new Map(),
    txn: new Map(),
    compaction: new Map(),
    alarm: new Map(),
    memberAttrSet: new Map(),
    leaseGrant: new Map(),
    leaseRevoke: new Map(),
    clusterVersionSet: new Map(),
    v2Request: new Map(),
    confChange: new Map(),
    auth: new Map(),
  };
  /** Every pending id and its kind: ids are unique across kinds. */
  private readonly kinds = new Map<bigint, OpKind>();

  constructor(private readonly maxPending: number) {
    if (maxPending <= 0) throw new Error('WaitRegistry: maxPending must be positive');
  }

  get size(): number {
    return this.kinds.size;
  }

  /** Registers `id` for a request of `kind`; the promise settles when trigger/fail is called for it. */
  register<K extends OpKind>(id: bigint, kind: K): Promise<OpResults[K]> {
    if (this.kinds.has(id)) throw new Error(`WaitRegistry: duplicate request id ${id}`);
    if (this.kinds.size >= this.maxPending) throw new TooManyWaitersError('too many pending requests');
    const waiters: Map<bigint, Waiter<K>> = this.byKind[kind];
    return new Promise<OpResults[K]>((resolve, reject) => {
      waiters.set(id, { resolve, reject });
      this.kinds.set(id, kind);
    });
  }

  has(id: bigint): boolean {
    return this.kinds.has(id);
  }

  /** Hands the result of applying request `id` to its waiter, if this member proposed it. */
  trigger<K extends OpKind>(id: bigint, kind: K, value: OpResults[K]): void {
    const waiters: Map<bigint, Waiter<K>> = this.byKind[kind];
    const w = waiters.get(id);
    if (w === undefined) return;
    waiters.delete(id);
    this.kinds.delete(id);
    w.resolve(value);
  }

  fail(id: bigint, err: Error): void {
    const kind = this.kinds.get(id);
    if (kind === undefined) return;
    this.kinds.delete(id);
    const w = this.byKind[kind].get(id);
    this.byKind[kind].delete(id);
    w?.reject(err);
  }

  failAll(err: Error): void {
    const all: Array<{ reject(err: Error): void }> = [];
    for (const waiters of Object.values(this.byKind)) {
      all.push(...waiters.values());
      waiters.clear();
    }
    this.kinds.clear();
    for (const w of all) w.reject(err);
  }
}
