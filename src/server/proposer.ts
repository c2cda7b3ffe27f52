// Proposing a request through raft and waiting for the result of applying it.
// Typed end to end: propose({ kind: 'put', req }) resolves with a PutResult
// (ops.ts); the applier hands each result to the waiter of the same kind.

import type { AuthInfo } from '../auth/index.js';
import type { Logger } from '../log/types.js';
import type { RawNode } from '../raft/index.js';
import type { Clock } from '../runtime/clock.js';
import { Errors, toServerError } from './errors.js';
import { encodeInternalRequest } from './internal-request.js';
import type { MemberObserver } from './member-observer.js';
import type { MemberState } from './member-state.js';
import type { InternalOp, ResultOf } from './ops.js';
import type { RequestIdGenerator } from './request-id.js';
import { TooManyWaitersError, type WaitRegistry } from './wait.js';

/** etcd refuses new proposals when the applier lags the commit index this much. */
const MAX_GAP_COMMIT_APPLY = 5000;

export interface ProposerDeps {
  node: RawNode;
  state: MemberState;
  waits: WaitRegistry;
  ids: RequestIdGenerator;
  log: Logger;
  maxRequestBytes: number;
  requestTimeoutMs: number;
  clock: Clock;
  appliedIndex(): number;
  /** Makes the ready loop pick up the proposal now. */
  wake(): void;
  stopped(): boolean;
  /** Pending and failed proposals, counted where etcd counts them. */
  observer?: Pick<MemberObserver, 'proposalPending' | 'proposalFailed'>;
  /**
   * Hold Normal proposals until flushProposals() (the ready loop calls it before it takes a
   * Ready) and propose them together. Without it each is proposed at once.
   */
  batch?: boolean;
}

interface QueuedProposal {
  id: bigint;
  data: Uint8Array;
}

export class Proposer {
  private leaderWaiters: Array<() => void> = [];
  /** Normal proposals waiting for the next flushProposals() (batch mode). */
  private queued: QueuedProposal[] = [];

  constructor(private readonly d: ProposerDeps) {
    d.state.onLeaderChange((leader) => {
      if (leader !== 0n) for (const w of this.leaderWaiters.splice(0)) w();
    });
  }

  /** `auth`: who asks (etcd's request header); the auth stage checks it when the entry is applied. */
  async propose<O extends InternalOp>(op: O, auth?: AuthInfo): Promise<ResultOf<O>> {
    const d = this.d;
    if (d.stopped()) throw Errors.stopped();
    const id = d.ids.next();
    let submit: () => void;
    if (op.kind === 'confChange') {
      // Membership changes travel as raft ConfChange entries carrying the request id.
      const cc = { ...op.req, id };
      submit = () => d.node.proposeConfChange(cc);
    } else {
      const data = encodeInternalRequest(auth === undefined ? { id, op } : { id, op, auth });
      if (data.length > d.maxRequestBytes) throw Errors.requestTooLarge();
      submit = d.batch ? () => this.queued.push({ id, data }) : () => d.node.propose(data);
    }
    if (d.state.commitIndex - d.appliedIndex() > MAX_GAP_COMMIT_APPLY) throw Errors.tooManyRequests();
    // Monotonic: a wall-clock step (NTP, clock jumps under the simulator) must not stretch or cut the timeout.
    const deadline = d.clock.monotonic() + d.requestTimeoutMs;
    if (!d.state.hasLeader()) await this.waitForLeader(deadline);
    let pending: Promise<ResultOf<O>>;
    try {
      pending = d.waits.register<O['kind']>(id, op.kind);
    } catch (err) {
      if (err instanceof TooManyWaitersError) throw Errors.tooManyRequests();
      throw err;
    }
    const o = d.observer;
    try {
      submit();
    } catch (err) {
      o?.proposalFailed?.();
      d.waits.fail(id, Errors.timeout());
      pending.catch(() => undefined);
      d.log.debug('proposal dropped', { error: (err as Error).message });
      throw Errors.timeout();
    }
    d.wake();
    o?.proposalPending?.(1);
    const timer = d.clock.after(Math.max(0, deadline - d.clock.monotonic()), () => {
      // etcd counts a proposal that was not applied in time as failed.
      o?.proposalFailed?.();
      d.waits.fail(id, Errors.timeout());
    });
    try {
      return await pending;
    } catch (err) {
      throw toServerError(err);
    } finally {
      timer.cancel();
      o?.proposalPending?.(-1);
    }
  }

  /**
   * Proposes everything queued since the last call as one raft proposal. The requests of one
   * event-loop turn (a leader's clients, or a follower's, whose proposals travel to the leader
   * in one message) then cost one append per follower, one acknowledgement back, and one
   * raft step each way, instead of one per request.
   */
  flushProposals(): void {
    if (this.queued.length === 0) return;
    const batch = this.queued;
    this.queued = [];
    try {
      this.d.node.proposeMany(batch.map((p) => p.data));
    } catch (err) {
      // Dropped (no leader, a leadership transfer, too much uncommitted): as for a single
      // proposal, each request fails with a timeout, which clients retry.
      this.d.log.debug('proposals dropped', { count: batch.length, error: (err as Error).message });
      for (const p of batch) {
        this.d.observer?.proposalFailed?.();
        this.d.waits.fail(p.id, Errors.timeout());
      }
    }
  }

  private waitForLeader(deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = this.d.clock.after(Math.max(0, deadline - this.d.clock.monotonic()), () => {
        this.leaderWaiters = this.leaderWaiters.filter((w) => w !== onLeader);
        reject(Errors.timeout());
      });
      const onLeader = (): void => {
        timer.cancel();
        resolve();
      };
      this.leaderWaiters.push(onLeader);
    });
  }
}
