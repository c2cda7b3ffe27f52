// The lessor: which leases exist, which keys hang on them, and - while this member leads - when each
// lease runs out. It is a pure state machine: the shell passes the time in (monotonic ms), writes the
// returned records to the backend, and turns `expired()` into revoke proposals.
//
// Two families of calls:
//  - applied ones (grant, revoke, attach, detach, checkpoint, restore) run on every member in log order
//    and leave the same state everywhere; the clock only sets expiries, and only on the leader;
//  - leader-local ones (promote, demote, renew, expired, dueCheckpoints) never go through raft.

import { invariant, LeaseError } from './errors.js';
import { ExpiryQueue } from './expiry-queue.js';
import { type KeyString, keyString, Lease } from './lease.js';
import { encodeLeaseRecord, leaseKey } from './record.js';
import {
  type Attachment,
  type CheckpointProposal,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  DEFAULT_EXPIRED_RETRY_MS,
  FOREVER_TTL_SEC,
  type GrantResult,
  LEASE_BUCKET,
  LEASE_REVOKE_RATE,
  type LeaseId,
  type LeasePut,
  type LeaseRecord,
  type LeaseView,
  type LessorOptions,
  MAX_LEASE_ID,
  MAX_LEASE_TTL_SEC,
  NO_LEASE,
  type RestoreResult,
  type RevokeResult,
  type TimeToLive,
} from './types.js';

function byId(a: LeaseId, b: LeaseId): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkTime(nowMs: number): void {
  invariant(Number.isFinite(nowMs), `time ${nowMs} is not a finite number`);
}

/** Told of grants, revokes and renewals as they happen (metrics); optional. */
export interface LessorObserver {
  granted?(ttlSec: number): void;
  revoked?(): void;
  renewed?(): void;
}

export class Lessor {
  observer: LessorObserver | undefined;
  private readonly minTtlSec: number;
  private readonly retryMs: number;
  private readonly revokeRate: number;
  private readonly checkpointing: boolean;
  private readonly checkpointIntervalMs: number;
  private readonly checkpointPersist: boolean;

  private readonly leaseMap = new Map<LeaseId, Lease>();
  /** Which lease each attached key hangs on. */
  private readonly owner = new Map<KeyString, LeaseId>();
  private primary = false;
  /** Leader only: one entry per lease, at its expiry or, once reported, at the next retry time. */
  private readonly expiry = new ExpiryQueue();
  /** Leader only, with checkpointing: when each lease's next checkpoint is due. */
  private readonly checkpointDue = new ExpiryQueue();
  /** Leader only, with checkpointing: renewed leases whose checkpointed remainder must be cleared. */
  private readonly pendingClears = new Set<LeaseId>();

  constructor(options: LessorOptions) {
    invariant(
      Number.isSafeInteger(options.minTtlSec) && options.minTtlSec >= 1,
      `minimum TTL ${options.minTtlSec} must be a whole number of seconds >= 1`,
    );
    this.minTtlSec = options.minTtlSec;
    this.retryMs = options.expiredRetryMs ?? DEFAULT_EXPIRED_RETRY_MS;
    invariant(this.retryMs > 0 && Number.isFinite(this.retryMs), 'expired retry interval must be > 0');
    this.revokeRate = options.revokeRatePerSec ?? LEASE_REVOKE_RATE;
    invariant(Number.isSafeInteger(this.revokeRate) && this.revokeRate >= 1, 'revoke rate must be >= 1');
    this.checkpointing = options.checkpointing ?? false;
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    invariant(this.checkpointIntervalMs > 0, 'checkpoint interval must be > 0');
    this.checkpointPersist = options.checkpointPersist ?? false;
  }

  // ---------------------------------------------------------------- applied through raft

  /**
   * Creates lease `id`. A TTL below the minimum is raised to it. On the leader the lease expires
   * `ttl` seconds after `nowMs`; elsewhere it does not expire (the time is ignored).
   */
  grant(id: LeaseId, ttlSec: number, nowMs: number): GrantResult {
    if (id === NO_LEASE) throw new LeaseError('lease-not-found');
    invariant(id > 0n && id <= MAX_LEASE_ID, `lease id ${id} must be in 1..2^63-1`);
    invariant(Number.isInteger(ttlSec), `requested TTL ${ttlSec} is not an integer`);
    if (ttlSec > MAX_LEASE_TTL_SEC) throw new LeaseError('ttl-too-large');
    if (this.leaseMap.has(id)) throw new LeaseError('lease-exists');

    const lease = new Lease(id, Math.max(ttlSec, this.minTtlSec));
    this.leaseMap.set(id, lease);
    if (this.primary) {
      checkTime(nowMs);
      lease.refresh(nowMs, 0);
      this.expiry.set(id, lease.expiryMs);
      this.scheduleCheckpoint(lease, nowMs);
    }
    this.observer?.granted?.(lease.ttl);
    return { lease: lease.view(), put: this.recordPut(lease) };
  }

  /**
   * Forgets lease `id` and returns its keys (bytewise order) for the server to delete at one revision,
   * plus the record to delete, all in the same backend batch.
   */
  revoke(id: LeaseId): RevokeResult {
    const lease = this.leaseMap.get(id);
    if (lease === undefined) throw new LeaseError('lease-not-found');
    const keys = lease.sortedKeys();
    for (const k of lease.keys) this.owner.delete(k);
    lease.keys.clear();
    this.leaseMap.delete(id);
    this.expiry.delete(id);
    this.checkpointDue.delete(id);
    this.pendingClears.delete(id);
    this.observer?.revoked?.();
    return { keys, del: { bucket: LEASE_BUCKET, key: leaseKey(id) } };
  }

  /**
   * Hangs `key` on lease `id`. The lease must exist (the store checks before it writes). A key hangs on
   * at most one lease: if it was on another, it moves.
   */
  attach(id: LeaseId, key: Uint8Array): void {
    const lease = this.leaseMap.get(id);
    invariant(lease !== undefined, `attach to unknown lease ${id}`);
    const k = keyString(key);
    const previous = this.owner.get(k);
    if (previous !== undefined && previous !== id) this.leaseMap.get(previous)?.keys.delete(k);
    lease.keys.add(k);
    this.owner.set(k, id);
  }

  /**
   * Takes `key` off lease `id`. Returns false, changing nothing, when the lease is unknown (e.g. the
   * server is deleting the keys of a lease it just revoked) or the key was not on it.
   */
  detach(id: LeaseId, key: Uint8Array): boolean {
    const lease = this.leaseMap.get(id);
    if (lease === undefined) return false;
    const k = keyString(key);
    if (!lease.keys.delete(k)) return false;
    if (this.owner.get(k) === id) this.owner.delete(k);
    return true;
  }

  /**
   * Records a checkpointed remaining TTL (seconds; 0 clears it). It changes no expiry now; a later
   * promote starts the lease from it. Unknown leases are ignored. Returns the record to write when
   * checkpoints are persisted.
   */
  checkpoint(id: LeaseId, remainingTtlSec: number, nowMs: number): LeasePut | undefined {
    invariant(Number.isSafeInteger(remainingTtlSec), `remaining TTL ${remainingTtlSec} is not an integer`);
    const lease = this.leaseMap.get(id);
    if (lease === undefined) return undefined;
    lease.remainingTtl = remainingTtlSec;
    if (this.primary) {
      checkTime(nowMs);
      this.scheduleCheckpoint(lease, nowMs);
    }
    return this.checkpointPersist ? this.recordPut(lease) : undefined;
  }

  /**
   * Rebuilds the state after a restart or snapshot: leases from the "lease" bucket, attachments from the
   * store's live keys that carry a lease. Afterwards this lessor is not primary: nothing expires until
   * `promote`.
   */
  restore(records: Iterable<LeaseRecord>, attachments: Iterable<Attachment>): RestoreResult {
    this.leaseMap.clear();
    this.owner.clear();
    this.enterFollowerState();
    for (const r of records) {
      invariant(r.id > 0n && r.id <= MAX_LEASE_ID, `stored lease id ${r.id} must be in 1..2^63-1`);
      invariant(!this.leaseMap.has(r.id), `lease ${r.id} stored twice`);
      invariant(Number.isSafeInteger(r.ttl), `stored TTL ${r.ttl} of lease ${r.id} is not an integer`);
      this.leaseMap.set(r.id, new Lease(r.id, Math.max(r.ttl, this.minTtlSec), r.remainingTtl));
    }
    const orphans: Attachment[] = [];
    let attached = 0;
    for (const a of attachments) {
      if (!this.leaseMap.has(a.lease)) {
        orphans.push(a);
        continue;
      }
      this.attach(a.lease, a.key);
      attached++;
    }
    return { leases: this.leaseMap.size, attached, orphans };
  }

  // ---------------------------------------------------------------- leader-local

  /**
   * This member became leader (etcd: on applying the first, empty entry of its term). Every lease now
   * expires its (checkpointed or full) TTL plus `extendMs` after `nowMs`. With as many leases as the
   * revoke rate or more, expiries that bunch up are pushed apart so at most 3/4 of the rate fall due
   * in any one second.
   */
  promote(nowMs: number, extendMs: number): void {
    checkTime(nowMs);
    invariant(Number.isFinite(extendMs) && extendMs >= 0, `extension ${extendMs} must be >= 0`);
    this.primary = true;
    this.expiry.clear();
    this.checkpointDue.clear();
    this.pendingClears.clear();
    for (const lease of this.leaseMap.values()) {
      lease.refresh(nowMs, extendMs);
      this.expiry.set(lease.id, lease.expiryMs);
      this.scheduleCheckpoint(lease, nowMs);
    }
    if (this.leaseMap.size >= this.revokeRate) this.spreadExpiries(nowMs, extendMs);
  }

  /** This member stopped leading: no lease expires here any more. */
  demote(): void {
    this.enterFollowerState();
  }

  get isPrimary(): boolean {
    return this.primary;
  }

  /**
   * Keep-alive: the lease now expires its full TTL after `nowMs`; returns that TTL (seconds).
   * Only the leader renews ('not-primary' elsewhere); a lease already past its expiry cannot be
   * renewed ('lease-expired': its revoke is on the way).
   */
  renew(id: LeaseId, nowMs: number): number {
    if (!this.primary) throw new LeaseError('not-primary');
    const lease = this.leaseMap.get(id);
    if (lease === undefined) throw new LeaseError('lease-not-found');
    checkTime(nowMs);
    if (lease.expiredAt(nowMs)) throw new LeaseError('lease-expired');
    if (this.checkpointing && lease.remainingTtl > 0) this.pendingClears.add(id);
    lease.expiryMs = nowMs + lease.ttl * 1000;
    this.expiry.set(id, lease.expiryMs);
    this.observer?.renewed?.();
    return lease.ttl;
  }

  /**
   * Leases whose expiry is at or before `nowMs`, earliest first, at most `max`. A lease reported here
   * is not reported again until `expiredRetryMs` has passed without it being revoked or renewed.
   * Costs O(k log n) for k leases looked at, never a scan. Empty unless primary.
   */
  /** Whether expired() may have something at `nowMs` (a peek, nothing rescheduled). */
  mayHaveExpired(nowMs: number): boolean {
    if (!this.primary) return false;
    const head = this.expiry.peek();
    return head !== undefined && head.time <= nowMs;
  }

  expired(nowMs: number, max: number): LeaseId[] {
    invariant(Number.isSafeInteger(max) && max >= 0, `limit ${max} must be a whole number >= 0`);
    const out: LeaseId[] = [];
    if (!this.primary) return out;
    checkTime(nowMs);
    while (out.length < max) {
      const head = this.expiry.peek();
      if (head === undefined || head.time > nowMs) break;
      const lease = this.leaseMap.get(head.id);
      if (lease === undefined) {
        this.expiry.delete(head.id);
        continue;
      }
      if (!lease.expiredAt(nowMs)) {
        // The queue was early; put the lease back at its real expiry.
        this.expiry.set(head.id, lease.expiryMs);
        continue;
      }
      this.expiry.set(head.id, nowMs + this.retryMs);
      out.push(head.id);
    }
    return out;
  }

  /**
   * With checkpointing on and while primary: the checkpoints to propose now, at most `max`. First the
   * clears asked for by renewals of checkpointed leases, then leases whose checkpoint time has come and
   * that have lost at least a second of their TTL (remaining seconds rounded up).
   */
  dueCheckpoints(nowMs: number, max: number): CheckpointProposal[] {
    invariant(Number.isSafeInteger(max) && max >= 0, `limit ${max} must be a whole number >= 0`);
    const out: CheckpointProposal[] = [];
    if (!this.primary || !this.checkpointing) return out;
    checkTime(nowMs);
    for (const id of this.pendingClears) {
      if (out.length >= max) break;
      this.pendingClears.delete(id);
      if (this.leaseMap.has(id)) out.push({ id, remainingTtl: 0 });
    }
    while (out.length < max) {
      const head = this.checkpointDue.peek();
      if (head === undefined || head.time > nowMs) break;
      this.checkpointDue.pop();
      const lease = this.leaseMap.get(head.id);
      if (lease === undefined || lease.expiredAt(nowMs)) continue;
      const remaining = Math.ceil((lease.expiryMs - nowMs) / 1000);
      if (remaining >= lease.ttl) continue;
      out.push({ id: head.id, remainingTtl: remaining });
    }
    return out;
  }

  // ---------------------------------------------------------------- queries

  /**
   * etcd's LeaseTimeToLive: remaining whole seconds, truncated toward zero (so it reads 0 in the last
   * second and can go negative while a revoke is pending). A lessor that is not primary reports
   * FOREVER_TTL_SEC. Throws 'lease-not-found' (etcd's API answers that with TTL -1).
   */
  timeToLive(id: LeaseId, nowMs: number, withKeys: boolean): TimeToLive {
    const lease = this.leaseMap.get(id);
    if (lease === undefined) throw new LeaseError('lease-not-found');
    let ttl: number;
    if (lease.expiryMs === Number.POSITIVE_INFINITY) ttl = FOREVER_TTL_SEC;
    else {
      checkTime(nowMs);
      ttl = Math.trunc((lease.expiryMs - nowMs) / 1000) || 0;
    }
    const out: TimeToLive = { id, ttl, grantedTtl: lease.ttl };
    if (withKeys) out.keys = lease.sortedKeys();
    return out;
  }

  /** All lease ids, ascending. */
  /** Every lease, soonest expiry first as etcd lists them (ties, e.g. on a follower, by id). */
  leases(): LeaseId[] {
    return [...this.leaseMap.values()]
      .sort((a, b) => (a.expiryMs === b.expiryMs ? byId(a.id, b.id) : a.expiryMs - b.expiryMs))
      .map((l) => l.id);
  }

  has(id: LeaseId): boolean {
    return this.leaseMap.has(id);
  }

  lookup(id: LeaseId): LeaseView | undefined {
    return this.leaseMap.get(id)?.view();
  }

  /** The lease `key` hangs on, or NO_LEASE. */
  leaseOf(key: Uint8Array): LeaseId {
    // Most keys hang on no lease; with none attached at all the key string need not be made.
    if (this.owner.size === 0) return NO_LEASE;
    return this.owner.get(keyString(key)) ?? NO_LEASE;
  }

  /** The keys on lease `id` in bytewise order (empty for an unknown lease). */
  keysOf(id: LeaseId): Uint8Array[] {
    return this.leaseMap.get(id)?.sortedKeys() ?? [];
  }

  get size(): number {
    return this.leaseMap.size;
  }

  /** Throws LeaseInvariantError if the internal state is inconsistent; for tests. O(n). */
  checkInvariants(): void {
    let keyTotal = 0;
    for (const [id, lease] of this.leaseMap) {
      invariant(lease.id === id && id > 0n && id <= MAX_LEASE_ID, `lease ${id} has a bad id`);
      invariant(lease.ttl >= this.minTtlSec && lease.ttl <= MAX_LEASE_TTL_SEC, `lease ${id} has a bad TTL`);
      keyTotal += lease.keys.size;
      for (const k of lease.keys)
        invariant(this.owner.get(k) === id, `key on lease ${id} is owned elsewhere`);
      if (this.primary) {
        const queued = this.expiry.timeOf(id);
        invariant(queued !== undefined, `lease ${id} is not queued for expiry`);
        invariant(Number.isFinite(lease.expiryMs), `lease ${id} never expires on the leader`);
        invariant(queued >= lease.expiryMs, `lease ${id} is queued before its expiry`);
      } else {
        invariant(lease.expiryMs === Number.POSITIVE_INFINITY, `lease ${id} expires on a follower`);
      }
    }
    invariant(keyTotal === this.owner.size, 'attached key count differs from the key index');
    invariant(this.expiry.size === (this.primary ? this.leaseMap.size : 0), 'expiry queue size is wrong');
    this.expiry.checkConsistency();
    this.checkpointDue.checkConsistency();
  }

  // ---------------------------------------------------------------- internals

  private enterFollowerState(): void {
    this.primary = false;
    for (const lease of this.leaseMap.values()) lease.expiryMs = Number.POSITIVE_INFINITY;
    this.expiry.clear();
    this.checkpointDue.clear();
    this.pendingClears.clear();
  }

  private recordPut(lease: Lease): LeasePut {
    return {
      bucket: LEASE_BUCKET,
      key: leaseKey(lease.id),
      value: encodeLeaseRecord({ id: lease.id, ttl: lease.ttl, remainingTtl: lease.remainingTtl }),
    };
  }

  private scheduleCheckpoint(lease: Lease, nowMs: number): void {
    if (!this.checkpointing || !this.primary) return;
    // Only leases that outlive one checkpoint interval are worth checkpointing.
    if (lease.refreshTtl() > Math.floor(this.checkpointIntervalMs / 1000)) {
      this.checkpointDue.set(lease.id, nowMs + this.checkpointIntervalMs);
    }
  }

  /**
   * Walks the leases in expiry order, grouping them into windows that start at a lease's expiry and
   * last a second. Within a window the first 3/4-of-the-rate leases keep their expiry; each one beyond
   * that is placed at (window start + its position / target) seconds, and the window's end is pulled
   * in by the same shift, so later leases start a new window sooner. Same outcome as etcd's Promote,
   * with the time measured in ms from `nowMs`.
   */
  private spreadExpiries(nowMs: number, extendMs: number): void {
    const target = Math.floor((3 * this.revokeRate) / 4);
    if (target < 1) return;
    // Every lease was just refreshed from the same `nowMs`, so its time left is exactly this:
    const left = (lease: Lease) => extendMs + lease.refreshTtl() * 1000;
    const ordered = [...this.leaseMap.values()].sort((a, b) => left(a) - left(b) || byId(a.id, b.id));
    let windowStart = left(ordered[0]!);
    let windowEnd = windowStart + 1000;
    let inWindow = 0;
    for (const lease of ordered) {
      const remaining = left(lease);
      if (remaining > windowEnd) {
        windowStart = remaining;
        windowEnd = remaining + 1000;
        inWindow = 1;
        continue;
      }
      inWindow++;
      if (inWindow <= target) continue;
      const shift = (1000 * inWindow) / target - (remaining - windowStart);
      windowEnd = windowStart + shift;
      lease.refresh(nowMs, extendMs + shift);
      this.expiry.set(lease.id, lease.expiryMs);
      this.scheduleCheckpoint(lease, nowMs);
    }
  }
}
