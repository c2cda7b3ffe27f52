// The ready loop: the one place that drives the raft core. Each Ready is
// handled in the order raft's contract demands -- persist (snapshot, entries,
// hard state; fsync when mustSync) -> send messages -> append to the in-memory
// log -> apply committed entries -> deliver read states -> advance.
//
// Group commit: only one Ready is in flight at a time, so while its WAL write
// and fsync are running, new proposals pile up inside raft and all go out in
// the next Ready with a single write + fsync. That batching is where write
// throughput comes from; nothing here ever has two WAL saves outstanding.
import type { Logger } from '../log/types.js';
import type { MemoryStorage, RawNode } from '../raft/index.js';
import type { HardState, Message, Ready, Snapshot, SoftState } from '../raft/types.js';
import type { AppliedIndexWaiters } from './applied-wait.js';
import type { Applier } from './applier.js';
import type { KvBackend } from './backend.js';
import type { Membership } from './membership.js';
import type { ReadIndexBatcher } from './read-index.js';
import type { SnapshotStore, WalLog } from './storage-types.js';

/** Member-to-member messages; a single member has nobody to send to. */
export interface Transport {
  send(messages: Message[]): void;
}

export const NO_PEERS: Transport = {
  send(messages: Message[]): void {
    if (messages.length > 0) throw new Error(`raft loop: ${messages.length} messages but no transport`);
  },
};

export interface RaftLoopOptions {
  node: RawNode;
  storage: MemoryStorage;
  wal: WalLog;
  snapshots: SnapshotStore;
  applier: Applier;
  appliedWaiters: AppliedIndexWaiters;
  backend: KvBackend;
  membership: Membership;
  transport: Transport;
  log: Logger;
  tickMs: number;
  snapshotCount: number;
  /** Entries kept in memory behind a snapshot so a slow follower can catch up without one. */
  snapshotCatchUpEntries: number;
  maxSnapshots: number;
  /** Index of the newest raft snapshot on disk (0 if none). */
  snapshotIndex: number;
  onSoftState(s: SoftState): void;
  onHardState(hs: HardState): void;
  /** A storage failure: the member cannot go on safely. */
  onFatal(err: Error): void;
}

export class RaftLoop {
  private running = false;
  private stopped = false;
  /** While > 0 no Ready is handled (a defragmentation has the backend). */
  private paused = 0;
  private tickTimer: NodeJS.Timeout | undefined;
  private snapshotIndex: number;
  private reads: ReadIndexBatcher | undefined;
  /** Settles when the current run of Ready handling is over (for a clean stop). */
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly o: RaftLoopOptions) {
    this.snapshotIndex = o.snapshotIndex;
  }

  setReadBatcher(reads: ReadIndexBatcher): void {
    this.reads = reads;
  }

  start(): void {
    this.tickTimer = setInterval(() => {
      this.o.node.tick();
      this.wake();
    }, this.o.tickMs);
    this.wake();
  }

  /** Something may have produced a Ready (a proposal, a message, a tick). */
  wake(): void {
    if (this.running || this.stopped || this.paused > 0) return;
    this.running = true;
    this.idle = new Promise((resolve) => {
      setImmediate(() => {
        this.run()
          .catch((err: unknown) => this.o.onFatal(err instanceof Error ? err : new Error(String(err))))
          .finally(() => {
            this.running = false;
            resolve();
            // A proposal made while the last run was winding down found `running`
            // still set and did not schedule anything: pick it up now.
            if (this.o.node.hasReady()) this.wake();
          });
      });
    });
  }

  /**
   * Runs `fn` with the ready loop held: the current Ready finishes first, no
   * new one starts until `fn` settles (nothing is applied meanwhile).
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.paused++;
    try {
      await this.idle;
      return await fn();
    } finally {
      this.paused--;
      this.wake();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    await this.idle;
  }

  private async run(): Promise<void> {
    while (!this.stopped && this.o.node.hasReady()) {
      await this.handleReady(this.o.node.ready());
      await this.maybeSnapshot();
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    const o = this.o;
    if (rd.snapshot !== undefined) await this.persistIncomingSnapshot(rd.snapshot);
    if (rd.hardState !== undefined || rd.entries.length > 0) {
      await o.wal.save(rd.hardState, rd.entries, rd.mustSync);
    }
    if (rd.snapshot !== undefined) o.storage.applySnapshot(rd.snapshot);
    if (rd.hardState !== undefined) {
      o.storage.setHardState(rd.hardState);
      o.onHardState(rd.hardState);
    }
    if (rd.softState !== undefined) o.onSoftState(rd.softState);
    if (rd.entries.length > 0) o.storage.append(rd.entries);
    // Only now may messages go out: they can promise what was just persisted.
    if (rd.messages.length > 0) o.transport.send(rd.messages);
    if (rd.committedEntries.length > 0) {
      o.applier.applyEntries(rd.committedEntries);
      o.appliedWaiters.advance(o.applier.appliedIndex);
    }
    if (rd.readStates.length > 0) this.reads?.onReadStates(rd.readStates);
    o.node.advance(rd);
  }

  private async persistIncomingSnapshot(s: Snapshot): Promise<void> {
    // Snapshot file first, then the WAL record naming it: a WAL snapshot record
    // must never point at a missing file (an orphaned file is harmless).
    await this.o.snapshots.save(s);
    await this.o.wal.saveSnapshot({
      index: s.metadata.index,
      term: s.metadata.term,
      confState: s.metadata.confState,
    });
    this.snapshotIndex = s.metadata.index;
  }

  /** Every snapshotCount applied entries: a raft snapshot of the membership, then log truncation. */
  private async maybeSnapshot(): Promise<void> {
    const o = this.o;
    const applied = o.applier.appliedIndex;
    if (applied - this.snapshotIndex <= o.snapshotCount) return;
    o.log.info('triggering snapshot', {
      'local-member-applied-index': applied,
      'local-member-snapshot-index': this.snapshotIndex,
      'local-member-snapshot-count': o.snapshotCount,
    });
    // The WAL below the snapshot is about to be released: the backend must hold
    // everything applied so far before that.
    await o.backend.flush();
    const snap = o.storage.createSnapshot(applied, o.applier.confState, o.membership.encode());
    await this.persistIncomingSnapshot(snap);
    o.log.info('saved snapshot', { 'snapshot-index': applied });
    const compactTo = applied - o.snapshotCatchUpEntries;
    if (compactTo > o.storage.firstIndex()) {
      o.storage.compact(compactTo);
      o.log.info('compacted Raft logs', { 'compact-index': compactTo });
    }
    await o.wal.releaseTo(applied);
    await o.snapshots.purge(o.maxSnapshots);
  }
}
