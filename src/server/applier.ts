// Applies committed raft entries, strictly in log order, to the key-value
// backend and the membership, and hands each result to the request that is
// waiting for it (only the member that proposed an entry has a waiter).
//
// Replay safety: entries at or below the backend's consistent index already
// had their key-value effects stored before a crash, so only their membership
// effects are re-applied (the membership is rebuilt from the snapshot and the
// log on every start); the backend is never asked to apply an entry twice.
import type { DeleteRangeResult, PutResult, TxnResult } from '../mvcc/types.js';
import { type AlarmMember, type AlarmRequest_AlarmAction, AlarmType } from '../pb/etcdserverpb/rpc.js';
import { decodeConfChange } from '../raft/confchange-codec.js';
import { type ConfChange, type ConfState, type Entry, EntryType } from '../raft/types.js';
import type { KvBackend } from './backend.js';
import { Errors } from './errors.js';
import { decodeInternalRequest, type InternalRequest } from './internal-request.js';
import type { Membership } from './membership.js';
import { txnCost } from './quota.js';
import type { WaitRegistry } from './wait.js';

export type ApplyResult =
  | { kind: 'put'; result: PutResult }
  | { kind: 'deleteRange'; result: DeleteRangeResult }
  | { kind: 'txn'; result: TxnResult }
  | { kind: 'compaction'; revision: number; done: Promise<void> }
  | { kind: 'memberAttrSet' }
  | { kind: 'alarm'; alarms: AlarmMember[] };

/** The alarm store as the applier uses it. */
export interface AlarmApplier {
  apply(action: AlarmRequest_AlarmAction, a: AlarmMember): AlarmMember[];
  has(type: AlarmType): boolean;
}

export interface ApplierDeps {
  backend: KvBackend;
  membership: Membership;
  alarms: AlarmApplier;
  waits: WaitRegistry;
  /** Tells raft about a committed conf change (RawNode.applyConfChange). */
  applyConfChangeToRaft(cc: ConfChange): ConfState;
  onMemberAttrSet?(memberId: bigint): void;
  onApplyError?(index: number, err: Error): void;
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

  applyEntries(entries: readonly Entry[]): void {
    for (const e of entries) this.applyOne(e);
  }

  private applyOne(e: Entry): void {
    if (e.index !== this.applied + 1) {
      throw new Error(`applier: entry ${e.index} is not next after applied ${this.applied}`);
    }
    const backendHasIt = e.index <= this.backendIndexAtStart;
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConfChange(e.data);
      this.confState = this.deps.applyConfChangeToRaft(cc);
      this.deps.membership.applyConfChange(cc);
      if (!backendHasIt) this.deps.backend.markApplied(e.index);
    } else if (e.data.length === 0) {
      // The leader's no-op at the start of its term.
      if (!backendHasIt) this.deps.backend.markApplied(e.index);
    } else {
      this.applyNormal(e, backendHasIt);
    }
    this.applied = e.index;
  }

  private applyNormal(e: Entry, backendHasIt: boolean): void {
    const req = decodeInternalRequest(e.data);
    if (req.op.kind === 'memberAttrSet') {
      const a = req.op.req;
      this.deps.membership.setAttributes(a.memberId, a.name, a.clientUrls);
      if (!backendHasIt) this.deps.backend.markApplied(e.index);
      this.deps.onMemberAttrSet?.(a.memberId);
      this.deps.waits.trigger(req.id, { kind: 'memberAttrSet' } satisfies ApplyResult);
      return;
    }
    if (backendHasIt) return;
    let result: ApplyResult;
    try {
      result = this.applyKv(e.index, req);
    } catch (err) {
      // Deterministic failures (e.g. a txn reading a compacted revision) still
      // consume the entry; the backend must not re-apply it after a restart.
      const error = err instanceof Error ? err : new Error(String(err));
      this.markAppliedAfterError(e.index);
      this.deps.onApplyError?.(e.index, error);
      this.deps.waits.fail(req.id, error);
      return;
    }
    this.deps.waits.trigger(req.id, result);
  }

  private markAppliedAfterError(index: number): void {
    if (this.deps.backend.consistentIndex() < index) this.deps.backend.markApplied(index);
  }

  private applyKv(index: number, req: InternalRequest): ApplyResult {
    const op = req.op;
    const b = this.deps.backend;
    if (this.deps.alarms.has(AlarmType.NOSPACE) && writesKeys(req)) {
      // Out of space: nothing may grow the backend until the alarm is disarmed.
      throw Errors.noSpace();
    }
    switch (op.kind) {
      case 'put':
        return { kind: 'put', result: b.put(index, op.req) };
      case 'deleteRange':
        return { kind: 'deleteRange', result: b.deleteRange(index, op.req) };
      case 'txn':
        return { kind: 'txn', result: b.txn(index, op.req) };
      case 'alarm': {
        const a = { memberID: op.req.memberID, alarm: op.req.alarm };
        // etcd ignores alarms of members that are not (or no longer) in the cluster.
        const known = this.deps.membership.get(a.memberID) !== undefined;
        const alarms = known ? this.deps.alarms.apply(op.req.action, a) : [];
        b.markApplied(index);
        return { kind: 'alarm', alarms };
      }
      case 'compaction': {
        const r = b.compact(index, op.req.revision);
        // Nobody may be waiting on `done` (replays, other members); keep a rejection from going unhandled.
        r.done.catch(() => undefined);
        return { kind: 'compaction', revision: r.revision, done: r.done };
      }
      case 'memberAttrSet':
        throw new Error('applier: memberAttrSet is handled before the backend');
    }
  }
}

function writesKeys(req: InternalRequest): boolean {
  if (req.op.kind === 'put') return true;
  if (req.op.kind === 'txn') return txnCost(req.op.req) > 0;
  return false;
}
