// Applies committed raft entries, strictly in log order: conf changes to raft
// and the membership, normal entries through the stage chain (apply-stages.ts),
// and hands each result to the request waiting for it (only the member that
// proposed an entry has a waiter).
//
// Replay safety: entries at or below the backend's consistent index already
// had their effects stored before a crash (key-values, leases, alarms), so only
// their membership and v2-store effects are re-applied (both are rebuilt from
// the snapshot and the log on every start); the stages never see them, so
// neither does the events out-port.
import { decodeConfChange } from '../raft/confchange-codec.js';
import { type ConfChange, type ConfState, type Entry, EntryType } from '../raft/types.js';
import { realClock } from '../runtime/clock.js';
import type { KvBackend } from './backend.js';
import { decodeInternalRequest } from './internal-request.js';
import type { Membership } from './membership.js';
import type { InternalRequest, OpHandlers } from './ops.js';
import { applyV2ToStore } from './v2/apply.js';
import type { WaitRegistry } from './wait.js';

export interface ApplierDeps {
  /** Consistent index bookkeeping for entries that reach no stage (conf changes, no-ops, failures). */
  backend: Pick<KvBackend, 'consistentIndex' | 'markApplied'>;
  membership: Membership;
  /** The head of the stage chain. */
  stages: OpHandlers;
  waits: WaitRegistry;
  /** Tells raft about a committed conf change (RawNode.applyConfChange). */
  applyConfChangeToRaft(cc: ConfChange): ConfState;
  onApplyError?(index: number, err: Error): void;
  /** A conf change was applied (the transport adds, removes or updates the peer). */
  onConfChange?(cc: ConfChange): void;
  /** A leader's empty first entry of its term was applied (etcd promotes its lessor then). */
  onEmptyEntry?(term: number): void;
  /** Called with each request just before the stages apply it (the auth stage learns who sent it). */
  beforeApply?(req: InternalRequest): void;
  /** The member's wall clock, ms since the epoch (v2 TTLs); default the real clock. */
  now?(): number;
  /** The member's monotonic clock (how long an apply took); default the real clock. */
  monotonic?(): number;
  /** Applies slower than `slowApplyMs` (etcd's --experimental-warning-apply-duration) are reported. */
  slowApplyMs?: number;
  onSlowApply?(): void;
}

export class Applier {
  private applied: number;
  /** Backend's consistent index at start-up: entries up to it are replays for the backend. */
  private readonly backendIndexAtStart: number;
  confState: ConfState;

  constructor(
    private readonly deps: ApplierDeps,
    appliedIndex: number,
    confState: ConfState,
  ) {
    this.applied = appliedIndex;
    this.confState = confState;
    this.backendIndexAtStart = deps.backend.consistentIndex();
  }

  get appliedIndex(): number {
    return this.applied;
  }

  /** A raft snapshot replaced the state: applying goes on after its index. */
  restoredTo(index: number, confState: ConfState): void {
    this.applied = index;
    this.confState = confState;
  }

  applyEntries(entries: readonly Entry[]): void {
    for (const e of entries) this.applyOne(e);
  }

  private applyOne(e: Entry): void {
    if (e.index !== this.applied + 1) {
      throw new Error(`applier: entry ${e.index} is not next after applied ${this.applied}`);
    }
    const backendHasIt = e.index <= this.backendIndexAtStart;
    if (e.type === EntryType.ConfChange) {
      this.applyConfChange(e.index, decodeConfChange(e.data));
      if (!backendHasIt) this.deps.backend.markApplied(e.index);
    } else if (e.data.length === 0) {
      // The leader's no-op at the start of its term.
      if (!backendHasIt) this.deps.backend.markApplied(e.index);
      this.deps.onEmptyEntry?.(e.term);
    } else {
      this.applyNormal(e, backendHasIt);
    }
    this.applied = e.index;
  }

  /**
   * etcd's rule: a conf change is validated against the membership when it is
   * applied; a rejected one still reaches raft, as a no-op (node 0), and its
   * proposer gets the membership error.
   */
  private applyConfChange(index: number, cc: ConfChange): void {
    const ms = this.deps.membership;
    const rejected = ms.validate(cc);
    if (rejected !== undefined) {
      this.confState = this.deps.applyConfChangeToRaft({ ...cc, nodeId: 0n });
      this.deps.onApplyError?.(index, rejected);
      if (cc.id !== undefined) this.deps.waits.fail(cc.id, rejected);
      return;
    }
    this.confState = this.deps.applyConfChangeToRaft(cc);
    ms.applyConfChange(cc);
    this.deps.onConfChange?.(cc);
    if (cc.id !== undefined) this.deps.waits.trigger(cc.id, 'confChange', ms.list());
  }

  private applyNormal(e: Entry, backendHasIt: boolean): void {
    const req = decodeInternalRequest(e.data);
    if (backendHasIt) {
      // The backend has the entry's effects; the membership is rebuilt on every start.
      if (req.op.kind === 'memberAttrSet') {
        const a = req.op.req;
        this.deps.membership.setAttributes(a.memberId, a.name, a.clientUrls);
      } else if (req.op.kind === 'clusterVersionSet') {
        this.deps.membership.setClusterVersion(req.op.req.version);
      } else if (req.op.kind === 'v2Request') {
        // The v2 store lives in memory only, as etcd's: rebuilt from the snapshot and the log.
        applyV2ToStore(this.deps.membership.v2Store(), req.op.req, (this.deps.now ?? realClock.now)());
      }
      return;
    }
    const started = this.monotonic();
    try {
      this.deps.beforeApply?.(req);
      this.dispatch(e.index, req);
      this.timeApply(started);
    } catch (err) {
      this.timeApply(started);
      // Deterministic failures (e.g. a txn reading a compacted revision) still
      // consume the entry; the backend must not re-apply it after a restart.
      const error = err instanceof Error ? err : new Error(String(err));
      if (this.deps.backend.consistentIndex() < e.index) this.deps.backend.markApplied(e.index);
      this.deps.onApplyError?.(e.index, error);
      this.deps.waits.fail(req.id, error);
    }
  }

  private timeApply(started: number): void {
    const limit = this.deps.slowApplyMs;
    if (limit !== undefined && this.monotonic() - started > limit) this.deps.onSlowApply?.();
  }

  /** The member's monotonic clock (virtual under the simulator, where an apply takes no time). */
  private monotonic(): number {
    return (this.deps.monotonic ?? realClock.monotonic)();
  }

  /** One case per kind: each hands its stage's typed result to the waiter of that kind. */
  private dispatch(index: number, { id, op }: InternalRequest): void {
    const s = this.deps.stages;
    const w = this.deps.waits;
    switch (op.kind) {
      case 'put':
        w.trigger(id, op.kind, s.put(index, op.req));
        break;
      case 'deleteRange':
        w.trigger(id, op.kind, s.deleteRange(index, op.req));
        break;
      case 'txn':
        w.trigger(id, op.kind, s.txn(index, op.req));
        break;
      case 'compaction':
        w.trigger(id, op.kind, s.compaction(index, op.req));
        break;
      case 'alarm':
        w.trigger(id, op.kind, s.alarm(index, op.req));
        break;
      case 'memberAttrSet':
        w.trigger(id, op.kind, s.memberAttrSet(index, op.req));
        break;
      case 'leaseGrant':
        w.trigger(id, op.kind, s.leaseGrant(index, op.req));
        break;
      case 'leaseRevoke':
        w.trigger(id, op.kind, s.leaseRevoke(index, op.req));
        break;
      case 'clusterVersionSet':
        w.trigger(id, op.kind, s.clusterVersionSet(index, op.req));
        break;
      case 'v2Request':
        w.trigger(id, op.kind, s.v2Request(index, op.req));
        break;
      case 'auth':
        w.trigger(id, op.kind, s.auth(index, op.req));
        break;
      case 'confChange':
        throw new Error('applier: a conf change inside a Normal entry');
    }
  }
}
