// Linearizable reads, batched as etcd does: at most one raft ReadIndex round is
// in flight; every read that arrives meanwhile joins the next round. A round
// resolves all its reads with the same read index; each read then waits until
// the applied index reaches it. A leader that has not yet committed an entry
// in its term drops ReadIndex requests silently, so a round re-sends its
// request periodically until it is answered or times out.

import type { ReadState } from '../raft/types.js';
import type { Clock, Timer } from '../runtime/clock.js';

interface PendingRead {
  resolve(index: number): void;
  reject(err: Error): void;
}

interface Round {
  ctx: Uint8Array;
  key: string;
  reads: PendingRead[];
  retryTimer: Timer;
  deadlineTimer: Timer;
}

export interface ReadIndexOptions {
  /** Asks raft for a read index under this context (and wakes the ready loop). */
  request(ctx: Uint8Array): void;
  retryMs: number;
  timeoutMs: number;
  maxQueued: number;
  makeTimeoutError(): Error;
  makeTooManyError(): Error;
  clock: Clock;
  /** An answer for an earlier round, or a round that timed out (etcd's slow read indexes). */
  onSlow?(): void;
  /** The leader changed while a round was in flight (etcd fails that round: a failed read index). */
  onFailed?(): void;
}

function ctxKey(ctx: Uint8Array): string {
  return Buffer.from(ctx.buffer, ctx.byteOffset, ctx.byteLength).toString('hex');
}

export class ReadIndexBatcher {
  private queued: PendingRead[] = [];
  private round: Round | undefined;
  private seq = 0n;
  private stopped = false;

  constructor(
    private readonly opts: ReadIndexOptions,
    /** Makes contexts unique across restarts of this member. */
    private readonly ctxPrefix: bigint,
  ) {}

  /** The index a linearizable read must wait for. */
  readIndex(): Promise<number> {
    if (this.stopped) return Promise.reject(this.opts.makeTimeoutError());
    if (this.queued.length >= this.opts.maxQueued) return Promise.reject(this.opts.makeTooManyError());
    return new Promise((resolve, reject) => {
      this.queued.push({ resolve, reject });
      if (this.round === undefined) this.startRound();
    });
  }

  /** Feeds the read states of a Ready. */
  onReadStates(states: ReadState[]): void {
    for (const s of states) {
      const r = this.round;
      if (r === undefined || ctxKey(s.requestCtx) !== r.key) {
        // An earlier round's answer (a stale retry's): etcd counts it as a slow read index.
        this.opts.onSlow?.();
        continue;
      }
      this.finishRound();
      for (const p of r.reads) p.resolve(s.index);
    }
    if (this.round === undefined && this.queued.length > 0) this.startRound();
  }

  /**
   * The known leader changed. etcd fails the waiting round (ErrLeaderChanged) and counts a
   * failed read index; we keep re-sending the round's request instead, and count it the same.
   */
  leaderChanged(): void {
    if (this.round !== undefined) this.opts.onFailed?.();
  }

  stop(err: Error): void {
    this.stopped = true;
    const r = this.round;
    if (r !== undefined) {
      this.finishRound();
      for (const p of r.reads) p.reject(err);
    }
    for (const p of this.queued.splice(0)) p.reject(err);
  }

  private startRound(): void {
    if (this.round !== undefined) throw new Error('read index: a round is already in flight');
    this.seq += 1n;
    const ctx = new Uint8Array(16);
    const view = new DataView(ctx.buffer);
    view.setBigUint64(0, BigInt.asUintN(64, this.ctxPrefix));
    view.setBigUint64(8, this.seq);
    const reads = this.queued;
    this.queued = [];
    const round: Round = {
      ctx,
      key: ctxKey(ctx),
      reads,
      retryTimer: this.opts.clock.every(this.opts.retryMs, () => this.opts.request(ctx)),
      deadlineTimer: this.opts.clock.after(this.opts.timeoutMs, () => this.timeoutRound(round)),
    };
    this.round = round;
    this.opts.request(ctx);
  }

  private timeoutRound(r: Round): void {
    if (this.round !== r) return;
    this.opts.onSlow?.();
    this.finishRound();
    for (const p of r.reads) p.reject(this.opts.makeTimeoutError());
    if (this.queued.length > 0) this.startRound();
  }

  private finishRound(): void {
    const r = this.round;
    if (r === undefined) return;
    r.retryTimer.cancel();
    r.deadlineTimer.cancel();
    this.round = undefined;
  }
}
