// The applier's stages, in etcd's order: quota → (auth, with the auth work) →
// lease → store. Each stage is a full table of op handlers (OpHandlers) that
// does its part and hands the rest to the next; the store stage at the end
// executes the request against the backend and publishes the events it made.
import { AlarmType } from '../pb/etcdserverpb/rpc.js';
import { realClock } from '../runtime/clock.js';
import type { AlarmApplier } from './alarms.js';
import type { AppliedEvents } from './applied-events.js';
import type { KvBackend } from './backend.js';
import { Errors } from './errors.js';
import type { Membership } from './membership.js';
import type { OpHandlers, OpRequests, OpResults } from './ops.js';
import { txnCost } from './quota.js';
import { applyV2ToStore } from './v2/apply.js';

/** Passes every kind on to the next stage; subclasses override what they take part in. */
export abstract class DelegatingStage implements OpHandlers {
  constructor(protected readonly next: OpHandlers) {}
  put(i: number, r: OpRequests['put']): OpResults['put'] {
    return this.next.put(i, r);
  }
  deleteRange(i: number, r: OpRequests['deleteRange']): OpResults['deleteRange'] {
    return this.next.deleteRange(i, r);
  }
  txn(i: number, r: OpRequests['txn']): OpResults['txn'] {
    return this.next.txn(i, r);
  }
  compaction(i: number, r: OpRequests['compaction']): OpResults['compaction'] {
    return this.next.compaction(i, r);
  }
  alarm(i: number, r: OpRequests['alarm']): OpResults['alarm'] {
    return this.next.alarm(i, r);
  }
  memberAttrSet(i: number, r: OpRequests['memberAttrSet']): OpResults['memberAttrSet'] {
    return this.next.memberAttrSet(i, r);
  }
  leaseGrant(i: number, r: OpRequests['leaseGrant']): OpResults['leaseGrant'] {
    return this.next.leaseGrant(i, r);
  }
  leaseRevoke(i: number, r: OpRequests['leaseRevoke']): OpResults['leaseRevoke'] {
    return this.next.leaseRevoke(i, r);
  }
  clusterVersionSet(i: number, r: OpRequests['clusterVersionSet']): OpResults['clusterVersionSet'] {
    return this.next.clusterVersionSet(i, r);
  }
  v2Request(i: number, r: OpRequests['v2Request']): OpResults['v2Request'] {
    return this.next.v2Request(i, r);
  }
  auth(i: number, r: OpRequests['auth']): OpResults['auth'] {
    return this.next.auth(i, r);
  }
}

/**
 * Out of space (a NOSPACE alarm is raised): nothing that can grow the backend
 * is applied until the alarm is disarmed -- puts, txns with puts, lease grants
 * (etcd's quotaApplierV3).
 */
export class QuotaStage extends DelegatingStage {
  constructor(
    next: OpHandlers,
    private readonly alarms: AlarmApplier,
  ) {
    super(next);
  }
  private refuseWhenFull(): void {
    if (this.alarms.has(AlarmType.NOSPACE)) throw Errors.noSpace();
  }
  override put(i: number, r: OpRequests['put']): OpResults['put'] {
    this.refuseWhenFull();
    return super.put(i, r);
  }
  override txn(i: number, r: OpRequests['txn']): OpResults['txn'] {
    if (txnCost(r) > 0) this.refuseWhenFull();
    return super.txn(i, r);
  }
  override leaseGrant(i: number, r: OpRequests['leaseGrant']): OpResults['leaseGrant'] {
    this.refuseWhenFull();
    return super.leaseGrant(i, r);
  }
}

export interface StoreStageDeps {
  backend: KvBackend;
  membership: Membership;
  alarms: AlarmApplier;
  events: AppliedEvents;
  /** The member's wall clock, ms since the epoch (v2 TTLs); default the real clock. */
  now?(): number;
}

/** The end of the chain: the key-value store, alarms and member attributes. */
export class StoreStage implements OpHandlers {
  constructor(private readonly d: StoreStageDeps) {}

  put(i: number, r: OpRequests['put']): OpResults['put'] {
    const out = this.d.backend.put(i, r);
    this.d.events.publish(out.rev, out.events);
    return out;
  }
  deleteRange(i: number, r: OpRequests['deleteRange']): OpResults['deleteRange'] {
    const out = this.d.backend.deleteRange(i, r);
    this.d.events.publish(out.rev, out.events);
    return out;
  }
  txn(i: number, r: OpRequests['txn']): OpResults['txn'] {
    const out = this.d.backend.txn(i, r);
    this.d.events.publish(out.rev, out.events);
    return out;
  }
  compaction(i: number, r: OpRequests['compaction']): OpResults['compaction'] {
    const out = this.d.backend.compact(i, r.revision);
    // Nobody may be waiting on `done` (replays, other members); keep a rejection from going unhandled.
    out.done.catch(() => undefined);
    return out;
  }
  alarm(i: number, r: OpRequests['alarm']): OpResults['alarm'] {
    const a = { memberID: r.memberID, alarm: r.alarm };
    // etcd ignores alarms of members that are not (or no longer) in the cluster.
    // Member 0 is the cluster as a whole: etcd 3.4's corruption check raises CORRUPT for it.
    const known = a.memberID === 0n || this.d.membership.get(a.memberID) !== undefined;
    const alarms = known ? this.d.alarms.apply(r.action, a) : [];
    this.d.backend.markApplied(i);
    return alarms;
  }
  memberAttrSet(i: number, r: OpRequests['memberAttrSet']): OpResults['memberAttrSet'] {
    this.d.membership.setAttributes(r.memberId, r.name, r.clientUrls);
    this.d.backend.markApplied(i);
    return undefined;
  }
  clusterVersionSet(i: number, r: OpRequests['clusterVersionSet']): OpResults['clusterVersionSet'] {
    this.d.membership.setClusterVersion(r.version);
    this.d.backend.markApplied(i);
    return undefined;
  }
  /** v2 keys live in the v2 store the membership keeps (etcd's apply_v2.go). */
  v2Request(i: number, r: OpRequests['v2Request']): OpResults['v2Request'] {
    const out = applyV2ToStore(this.d.membership.v2Store(), r, (this.d.now ?? realClock.now)());
    this.d.backend.markApplied(i);
    return out;
  }
  leaseGrant(): OpResults['leaseGrant'] {
    throw new Error('store stage: lease requests end at the lease stage');
  }
  leaseRevoke(): OpResults['leaseRevoke'] {
    throw new Error('store stage: lease requests end at the lease stage');
  }
  auth(): OpResults['auth'] {
    throw new Error('store stage: auth requests end at the auth stage');
  }
}
