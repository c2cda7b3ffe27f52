// Auto-compaction (--auto-compaction-mode / --auto-compaction-retention), with
// etcd 3.4's timing. Periodic: every retention/10 (at most 6 min) the current
// revision is sampled; once a whole retention period has passed since the last
// compaction, the oldest sample (the revision one retention ago) is compacted;
// after the first one, compactions repeat every retention (at most 1 h).
// Revision: every 5 minutes, compact to current revision - retention.
// Only the leader compacts (a compaction is a raft proposal that every member applies).

import type { AutoCompactionMode } from '../config/types.js';
import { parseGoDurationNs } from '../config/values.js';
import type { Logger } from '../log/types.js';
import { type Clock, realClock, type Timer } from '../runtime/clock.js';

const HOUR_MS = 3_600_000;
const REVISION_MODE_INTERVAL_MS = 5 * 60_000;

export interface CompactorTarget {
  currentRevision(): number;
  /** Subscribes to leadership changes (etcd pauses the compactor on followers); returns an unsubscribe. */
  onLeadership(listener: (isLeader: boolean) => void): () => void;
  /** Proposes a compaction; rejects with etcd's errors. */
  compact(revision: number): Promise<unknown>;
}

export type CompactorPlan =
  | { mode: 'off' }
  | { mode: 'periodic'; periodMs: number }
  | { mode: 'revision'; retention: number };

/** Reads the retention as etcd does: a bare number means hours in periodic mode, revisions in revision mode. */
export function compactorPlan(mode: AutoCompactionMode, retention: string): CompactorPlan {
  const r = retention.trim();
  if (r === '' || r === '0') return { mode: 'off' };
  if (mode === 'revision') {
    const n = Number(r);
    if (!Number.isSafeInteger(n) || n < 0)
      throw new Error(`invalid auto-compaction-retention ${JSON.stringify(r)}`);
    return n === 0 ? { mode: 'off' } : { mode: 'revision', retention: n };
  }
  const periodMs = /^\d+$/.test(r) ? Number(r) * HOUR_MS : parseGoDurationNs(r) / 1e6;
  if (!(periodMs > 0)) return { mode: 'off' };
  return { mode: 'periodic', periodMs };
}

export class Compactor {
  private timer: Timer | undefined;
  private samples: number[] = [];
  private lastSuccessMs: number;
  private baseIntervalMs = 0;
  private lastRevisionCompacted = 0;
  private busy = false;
  /** Only the leader compacts: the leadership signal resumes and pauses the compactor. */
  private leading = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly plan: CompactorPlan,
    private readonly target: CompactorTarget,
    private readonly log: Logger,
    private readonly clock: Clock = realClock,
  ) {
    this.lastSuccessMs = clock.now();
  }

  start(isLeaderNow: boolean): void {
    this.leading = isLeaderNow;
    this.unsubscribe = this.target.onLeadership((leading) => {
      this.leading = leading;
    });
    if (this.plan.mode === 'periodic') {
      const period = this.plan.periodMs;
      const retryMs = Math.min(period, HOUR_MS) / 10;
      const keep = Math.floor(period / retryMs) + 1;
      this.baseIntervalMs = period;
      this.samples.push(this.target.currentRevision());
      this.timer = this.clock.every(retryMs, () => this.periodicTick(period, keep), { unref: true });
    } else if (this.plan.mode === 'revision') {
      const retention = this.plan.retention;
      this.timer = this.clock.every(REVISION_MODE_INTERVAL_MS, () => this.revisionTick(retention), {
        unref: true,
      });
    }
  }

  stop(): void {
    this.timer?.cancel();
    this.unsubscribe?.();
  }

  private periodicTick(periodMs: number, keep: number): void {
    if (this.busy) return;
    if (this.clock.now() - this.lastSuccessMs < this.baseIntervalMs) {
      this.sample(keep);
      return;
    }
    if (!this.leading) {
      this.sample(keep);
      return;
    }
    this.baseIntervalMs = Math.min(periodMs, HOUR_MS);
    const rev = this.samples[0] ?? this.target.currentRevision();
    this.run(rev, { 'compact-period': `${periodMs}ms` }, () => {
      this.lastSuccessMs = this.clock.now();
    });
    this.sample(keep);
  }

  private sample(keep: number): void {
    this.samples.push(this.target.currentRevision());
    if (this.samples.length > keep) this.samples.shift();
  }

  private revisionTick(retention: number): void {
    if (this.busy || !this.leading) return;
    const rev = this.target.currentRevision() - retention;
    if (rev <= 0 || rev === this.lastRevisionCompacted) return;
    this.run(rev, { 'revision-compaction-retention': retention }, () => {
      this.lastRevisionCompacted = rev;
    });
  }

  private run(rev: number, fields: Record<string, string | number>, onDone: () => void): void {
    this.busy = true;
    this.log.info(`starting auto ${this.plan.mode} compaction`, { revision: rev, ...fields });
    this.target
      .compact(rev)
      .then(
        () => true,
        (err: Error) => err.message.includes('required revision has been compacted') || this.failed(rev, err),
      )
      .then((ok) => {
        if (ok) {
          onDone();
          this.log.info(`completed auto ${this.plan.mode} compaction`, { revision: rev, ...fields });
        }
      })
      .finally(() => {
        this.busy = false;
      });
  }

  private failed(rev: number, err: Error): false {
    this.log.warn(`failed auto ${this.plan.mode} compaction`, { revision: rev, error: err.message });
    return false;
  }
}
