// The ready loop: the one place that drives the raft core. Each Ready is
// handled in the order raft's contract demands -- persist (snapshot, entries,
// hard state; fsync when mustSync) -> send messages -> apply committed entries
// -> deliver read states.
//
// Pipelining (as etcd overlaps the fsync of one batch with the apply of the
// previous one): a Ready's WAL save is queued at once, its entries go to the
// in-memory log and raft is advanced, and the next Ready may be taken while
// that save is still on its way to disk. Everything that must wait for
// durability -- messages, applying (hence every client response), read
// states, hard/soft state notifications -- runs in a per-Ready stage; stages
// run strictly in Ready order and each starts only once its own save has
// resolved. The WAL writes queued saves in call order and shares one write +
// fdatasync among all saves queued behind the one in flight (group commit).
// A Ready carrying a snapshot is a barrier: it waits for every earlier stage
// and nothing after it starts until it is done.
//
// Two exceptions make a put cost one disk write per member in parallel rather than
// two in series (as etcd's leader writes to its followers while its fdatasync runs):
// - the leader's appends and heartbeats, and the proposals and read requests a follower
//   forwards, go out when the Ready is taken, before its own save, unless a save that
//   changes term or vote is still on its way (a message must never carry a term the sender
//   could forget). The raft core counts the leader's own copy towards the commit quorum
//   only once the stage reports it durable (selfAckOnPersist), so an entry is never
//   committed on fewer than a quorum of disks;
// - a Ready whose only durable news is a higher commit index writes nothing: the commit
//   index is volatile in raft (a restart learns it again), and its next save with
//   entries carries it anyway. Applying such a Ready still waits for every earlier save.

import type { Logger } from '../log/types.js';
import type { MemoryStorage, RawNode } from '../raft/index.js';
import {
  type HardState,
  type Message,
  MessageType,
  type Ready,
  type Snapshot,
  type SoftState,
  StateType,
} from '../raft/types.js';
import type { Clock, Timer } from '../runtime/clock.js';
import type { AppliedIndexWaiters } from './applied-wait.js';
import type { Applier } from './applier.js';
import type { KvBackend } from './backend.js';
import type { Membership } from './membership.js';
import type { ReadIndexBatcher } from './read-index.js';
import type { SnapshotStore, WalLog } from './storage-types.js';

/** At most this many ticks are made up for at once (2 s at etcd's default 100 ms heartbeat). */
const MAX_TICKS_CAUGHT_UP = 20;

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
  clock: Clock;
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
  /** A snapshot from the leader, persisted: the application takes its state from it. */
  installSnapshot?(s: Snapshot): Promise<void>;
}

/**
 * Messages that promise nothing about this member's disk: the leader's appends and heartbeats
 * (see selfAckOnPersist), and requests a follower forwards to the leader (proposals and read
 * index requests, which carry no term). Everything else (acknowledgements, votes) waits for the save.
 * A follower's forwarded proposal no longer waits behind its WAL write of earlier entries,
 * which at one client held about every other request on a follower for a whole write.
 */
const SENT_AHEAD_OF_SAVE: ReadonlySet<MessageType> = new Set([
  MessageType.App,
  MessageType.Heartbeat,
  MessageType.Prop,
  MessageType.ReadIndex,
]);

/** Readys whose stage has not finished yet; beyond this the loop waits (bounds memory and latency). */
export const MAX_READYS_IN_FLIGHT = 16;

export class RaftLoop {
  private stopped = false;
  private failed = false;
  /** While > 0 no Ready is taken (a defragmentation has the backend). */
  private paused = 0;
  /** A snapshot Ready is being handled: nothing else may be taken meanwhile. */
  private barrier = false;
  private scheduled = false;
  private inFlight = 0;
  private tickTimer: Timer | undefined;
  private snapshotIndex: number;
  private reads: ReadIndexBatcher | undefined;
  /** Settles when the stage of the newest Ready taken has finished (stages finish in order). */
  private tail: Promise<void> = Promise.resolve();
  /** Stages not yet finished whose save changes term or vote: no message may run ahead of them. */
  private termVoteInFlight = 0;
  /** Term and vote of the newest hard state taken. */
  private takenTerm = 0;
  private takenVote = 0n;
  /** Leader as of the newest Ready taken. */
  private leading = false;
  /** The newest hard state taken whose commit index no save has carried yet. */
  private unsavedHardState: HardState | undefined;
  /** Called before Readies are taken: lets held proposals into raft (Proposer.flushProposals). */
  private readonly beforeTakeHooks: Array<() => void> = [];

  constructor(private readonly o: RaftLoopOptions) {
    this.snapshotIndex = o.snapshotIndex;
  }

  setReadBatcher(reads: ReadIndexBatcher): void {
    this.reads = reads;
  }

  /** `fn` runs each time the loop is about to take Readies. */
  beforeTake(fn: () => void): void {
    this.beforeTakeHooks.push(fn);
  }

  start(): void {
    const { clock, tickMs, node } = this.o;
    // Raft's time is its tick count. A process starved of CPU (a loaded machine) fires its timer
    // late, and the count would fall behind real time: a follower would go on treating a dead
    // leader as recently heard from (checkQuorum's lease) and ignore the votes that replace it,
    // stretching the election by whole election timeouts. Missed ticks are caught up, after the
    // I/O that waited meanwhile (clock.soon runs after the poll phase), so heartbeats already
    // received count before the time they cover. A timer on time ticks once, as before.
    let tickedUntil = clock.monotonic();
    this.tickTimer = clock.every(tickMs, () => {
      const now = clock.monotonic();
      const behind = Math.floor((now - tickedUntil) / tickMs);
      const ticks = Math.max(1, Math.min(behind, MAX_TICKS_CAUGHT_UP));
      tickedUntil = behind > MAX_TICKS_CAUGHT_UP ? now : Math.min(now, tickedUntil + ticks * tickMs);
      node.tick();
      this.wake();
      if (ticks > 1) {
        clock.soon(() => {
          if (this.stopped || this.failed) return;
          for (let i = 1; i < ticks; i++) node.tick();
          this.wake();
        });
      }
    });
    this.wake();
  }

  /**
   * Something may have produced a Ready (a proposal, a message, a tick). The
   * Ready is taken one event-loop turn later (setImmediate, not a microtask):
   * every request that arrived in the same I/O poll then joins one Ready, so
   * one WAL write covers them all.
   */
  wake(): void {
    if (this.scheduled || !this.canTake()) return;
    this.scheduled = true;
    this.o.clock.soon(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /**
   * Runs `fn` with the ready loop held: every Ready taken so far finishes
   * first, no new one is taken until `fn` settles (nothing is applied meanwhile).
   */
  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.paused++;
    try {
      await this.tail;
      return await fn();
    } finally {
      this.paused--;
      this.wake();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.tickTimer?.cancel();
    await this.tail;
  }

  private canTake(): boolean {
    return (
      !this.stopped &&
      !this.failed &&
      this.paused === 0 &&
      !this.barrier &&
      this.inFlight < MAX_READYS_IN_FLIGHT
    );
  }

  /** Takes every Ready available now (up to the in-flight bound) and queues its stage. */
  private pump(): void {
    try {
      if (this.canTake()) for (const hook of this.beforeTakeHooks) hook();
      while (this.canTake() && this.o.node.hasReady()) {
        const rd = this.o.node.ready();
        if (rd.snapshot !== undefined) this.takeBarrier(rd);
        else this.take(rd);
      }
    } catch (err) {
      this.fatal(err);
    }
  }

  /** Queues the WAL save now; the rest of the Ready waits in a stage for that save. */
  private take(rd: Ready): void {
    const o = this.o;
    const changesTermVote = rd.hardState !== undefined && this.changesTermOrVote(rd.hardState);
    if (changesTermVote) this.termVoteInFlight++;
    const early = this.termVoteInFlight === 0 ? this.sendAheadOfSave(rd) : undefined;
    const saved = this.save(rd);
    if (rd.entries.length > 0) o.storage.append(rd.entries);
    if (rd.hardState !== undefined) o.storage.setHardState(rd.hardState);
    o.node.advance(rd);
    const last = rd.entries.at(-1);
    // Promise.all attaches to `saved` at once, so a failed save is never an unhandled rejection.
    const ready = saved === undefined ? this.tail : Promise.all([this.tail, saved]);
    this.queueStage(ready, () => {
      if (changesTermVote) this.termVoteInFlight--;
      // Our copy is durable: the leader may count itself (and commit) for these entries.
      if (last !== undefined) o.node.persisted(last.index, last.term);
      this.finishReady(rd, early);
    });
  }

  private changesTermOrVote(hs: HardState): boolean {
    const changed = hs.term !== this.takenTerm || hs.vote !== this.takenVote;
    this.takenTerm = hs.term;
    this.takenVote = hs.vote;
    return changed;
  }

  /** The Ready's WAL write, if it has anything durable to say (see the header on commit-only Readys). */
  private save(rd: Ready): Promise<void> | undefined {
    if (rd.hardState !== undefined) this.unsavedHardState = rd.hardState;
    if (rd.softState !== undefined) this.leading = rd.softState.state === StateType.Leader;
    if (rd.entries.length === 0 && !rd.mustSync) return undefined;
    // A busy leader of several voters writes in the background: the followers' acknowledgements
    // (which may commit without its own write) must not wait behind a blocking write. An idle
    // one (no earlier Ready in flight) writes inline: its appends are already on their way, so
    // the followers write meanwhile, and the thread pool's hand-offs made its own write (which
    // the commit waits for) about twice as slow as a follower's: ~1 ms against ~0.5 ms at one client.
    const voters = this.o.applier.confState?.voters.length ?? 1;
    this.o.wal.setInlineSync?.(!(this.leading && voters > 1 && this.inFlight > 0));
    const hs = this.unsavedHardState;
    this.unsavedHardState = undefined;
    return this.o.wal.save(hs, rd.entries, rd.mustSync);
  }

  /**
   * Sends the leader's appends and heartbeats now; returns the messages left for the stage.
   * Safe before our own save: they promise nothing about our disk (see selfAckOnPersist).
   */
  private sendAheadOfSave(rd: Ready): Message[] | undefined {
    if (rd.messages.length === 0) return undefined;
    const now: Message[] = [];
    const later: Message[] = [];
    for (const m of rd.messages) {
      if (SENT_AHEAD_OF_SAVE.has(m.type)) now.push(m);
      else later.push(m);
    }
    if (now.length === 0) return undefined;
    this.o.transport.send(now);
    return later;
  }

  /** A snapshot Ready: everything before it finishes, then it is handled in full, then the loop goes on. */
  private takeBarrier(rd: Ready): void {
    this.barrier = true;
    this.queueStage(this.tail, async () => {
      try {
        await this.handleReadyInOrder(rd);
      } finally {
        this.barrier = false;
      }
    });
  }

  private queueStage(after: Promise<unknown>, stage: () => void | Promise<void>): void {
    this.inFlight++;
    this.tail = after
      .then(async () => {
        if (this.failed) return;
        await stage();
        await this.maybeSnapshot();
      })
      .catch((err: unknown) => this.fatal(err))
      .finally(() => {
        this.inFlight--;
        this.wake();
      });
  }

  private fatal(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.o.onFatal(err instanceof Error ? err : new Error(String(err)));
  }

  /** What may only happen once the Ready's save is durable, in Ready order. */
  private finishReady(rd: Ready, remaining: Message[] = rd.messages): void {
    const o = this.o;
    if (rd.hardState !== undefined) o.onHardState(rd.hardState);
    if (rd.softState !== undefined) o.onSoftState(rd.softState);
    // Only now may the other messages go out: they can promise what was just persisted.
    if (remaining.length > 0) o.transport.send(remaining);
    if (rd.committedEntries.length > 0) {
      o.applier.applyEntries(rd.committedEntries);
      o.appliedWaiters.advance(o.applier.appliedIndex);
    }
    if (rd.readStates.length > 0) this.reads?.onReadStates(rd.readStates);
  }

  /** The unpipelined order, for a Ready that carries a snapshot. */
  private async handleReadyInOrder(rd: Ready): Promise<void> {
    const o = this.o;
    if (rd.snapshot !== undefined) await this.persistIncomingSnapshot(rd.snapshot);
    if (rd.hardState !== undefined) {
      this.unsavedHardState = undefined;
      this.changesTermOrVote(rd.hardState);
    }
    if (rd.hardState !== undefined || rd.entries.length > 0) {
      await o.wal.save(rd.hardState, rd.entries, rd.mustSync);
    }
    if (rd.snapshot !== undefined) {
      o.storage.applySnapshot(rd.snapshot);
      await o.installSnapshot?.(rd.snapshot);
    }
    if (rd.hardState !== undefined) o.storage.setHardState(rd.hardState);
    if (rd.entries.length > 0) o.storage.append(rd.entries);
    o.node.advance(rd);
    const last = rd.entries.at(-1);
    if (last !== undefined) o.node.persisted(last.index, last.term);
    this.finishReady(rd);
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
