// One simulated member. Durable state (the MemoryStorage "disk" and the set of peers this
// member has seen removed) survives a crash; everything else (the RawNode, the applied
// state machine, the Ready being persisted, waiting clients) is volatile and lost.
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  decodeConfChange,
  type Entry,
  EntryType,
  MemoryStorage,
  type Message,
  MessageType,
  type NodeId,
  ProposalDroppedError,
  type RaftConfig,
  RawNode,
  type Ready,
  StateType,
} from '../../src/raft/index.js';
import { AppStateMachine, encodeWrite } from './app.js';
import type { Rng } from './rng.js';

export type RaftTuning = Omit<RaftConfig, 'id' | 'storage' | 'applied' | 'random' | 'logger'>;

export interface PendingRead {
  readId: number;
  /** How many writes had been acknowledged when the read was issued. */
  ackedBefore: number;
  /** The read index, once Raft has confirmed one. */
  index?: number;
}

/** Everything a node reports to, or needs from, the cluster around it. */
export interface NodeHost {
  readonly now: number;
  /** Whether trace() goes anywhere (to skip formatting lines nobody reads). */
  readonly tracing: boolean;
  schedulePersist(node: SimNode, incarnation: number, rd: Ready): void;
  send(from: SimNode, m: Message): void;
  onReady(node: SimNode, rd: Ready): void;
  onPersisted(node: SimNode, rd: Ready): void;
  onApplied(node: SimNode, e: Entry): void;
  onConfApplied(node: SimNode, cc: ConfChange, cs: ConfState): void;
  onAck(node: SimNode, writeId: number, index: number): void;
  onReadServed(node: SimNode, read: PendingRead): void;
  onMaybeLeader(node: SimNode): void;
  trace(line: string): void;
}

/**
 * Deliberate application bugs, used only to prove the checkers catch them.
 * staleReads: serve reads from local state without ReadIndex. forgetVote: never persist the vote.
 * sendBeforePersist: send a Ready's messages before its entries are durable. ackOnPropose: ack at once.
 */
export type Sabotage = 'none' | 'staleReads' | 'forgetVote' | 'sendBeforePersist' | 'ackOnPropose';

export interface NodeOptions {
  sabotage: Sabotage;
  /** Step messages and ticks while a Ready is being persisted (as etcd's node loop does). */
  stepWhilePersisting: boolean;
  /** Take a snapshot and compact once this many applied entries sit above the last snapshot. */
  compactEvery: number;
  /** Entries kept below the snapshot point so slightly lagging followers avoid a snapshot. */
  compactKeep: number;
  payloadBytes: number;
  /**
   * The leader's appends and heartbeats go out when the Ready is taken, before its own
   * fsync (as the server's ready loop does), with selfAckOnPersist in the core.
   */
  leaderSendsEarly: boolean;
}

const MAX_INBOX = 4096;
const MAX_WAITING_CLIENTS = 256;

type Input = () => void;

export class SimNode {
  /** Durable. */
  readonly storage = new MemoryStorage();
  /** Durable: peers whose removal this member applied; their messages are refused (like etcd's transport). */
  readonly fenced = new Set<NodeId>();
  alive = false;
  removed = false;
  incarnation = 0;

  /** Volatile. */
  raft: RawNode | undefined;
  app = new AppStateMachine();
  confState: ConfState = { voters: [], learners: [] };
  term = 0;
  state: StateType = StateType.Follower;
  leader: NodeId = 0n;
  private persisting: Ready | undefined;
  /** Messages of the Ready in flight already sent ahead of its fsync (leaderSendsEarly). */
  private sentEarly: Set<Message> | undefined;
  /** Term and vote on disk: nothing may be sent early while a change of them is unsynced. */
  private durableTerm = 0;
  private durableVote: NodeId = 0n;
  private inbox: Input[] = [];
  /** Writes whose client waits for the apply; insertion order is age, so the oldest is evicted first. */
  private waitingWrites = new Set<number>();
  private waitingReads: PendingRead[] = [];

  constructor(
    readonly id: NodeId,
    private readonly host: NodeHost,
    private readonly tuning: RaftTuning,
    private readonly opts: NodeOptions,
    private readonly rng: Rng,
    /** The founding members, for a (re)bootstrap of an empty disk; undefined for a joiner. */
    private readonly founders: NodeId[] | undefined,
  ) {}

  get busy(): boolean {
    return this.persisting !== undefined;
  }

  start(): void {
    if (this.alive || this.removed) throw new Error(`node ${this.id}: start while alive or removed`);
    this.incarnation++;
    const snap = this.storage.snapshot();
    this.app = AppStateMachine.decode(snap.data, snap.metadata.index);
    this.confState = this.storage.initialState().confState;
    this.raft = new RawNode({
      ...this.tuning,
      id: this.id,
      storage: this.storage,
      applied: snap.metadata.index,
      random: () => this.rng.next(),
      selfAckOnPersist: this.opts.leaderSendsEarly,
    });
    const fresh = this.storage.lastIndex() === 0 && snap.metadata.index === 0;
    if (fresh && this.founders !== undefined) {
      this.raft.bootstrap(
        this.founders.map((nodeId) => ({ type: ConfChangeType.AddNode, nodeId, context: new Uint8Array() })),
      );
    }
    this.term = this.storage.initialState().hardState.term;
    this.durableTerm = this.term;
    this.durableVote = this.storage.initialState().hardState.vote;
    this.sentEarly = undefined;
    this.state = StateType.Follower;
    this.leader = 0n;
    this.alive = true;
    this.pump();
  }

  /** Lose everything volatile, including a Ready whose persistence had not finished. */
  crash(): void {
    if (!this.alive) throw new Error(`node ${this.id}: crash while down`);
    this.alive = false;
    this.incarnation++;
    this.raft = undefined;
    this.persisting = undefined;
    this.inbox = [];
    this.waitingWrites.clear();
    this.waitingReads = [];
  }

  tick(): void {
    this.input(() => this.raft!.tick(), true);
  }

  /** A message from the network (the cluster has already refused ones sent by removed peers). */
  deliver(m: Message): void {
    if (this.fenced.has(m.from)) return; // a forwarded request from a removed member
    this.input(() => this.raft!.step(m), true);
  }

  campaign(): void {
    this.input(() => this.raft!.campaign(), true);
  }

  transferLeader(to: NodeId): void {
    this.input(() => this.raft!.transferLeader(to), false);
  }

  reportUnreachable(to: NodeId): void {
    this.input(() => this.raft!.reportUnreachable(to), false);
  }

  reportSnapshot(to: NodeId, ok: boolean): void {
    this.input(() => this.raft!.reportSnapshot(to, ok), false);
  }

  /** A client write. Returns false when Raft refuses it at once. */
  propose(writeId: number): boolean {
    // A proposal lost on the way (dropped forward, overwritten entry) is never applied: its client
    // times out. Model that by forgetting the oldest waiter when the table is full.
    if (this.waitingWrites.size >= MAX_WAITING_CLIENTS) {
      this.waitingWrites.delete(this.waitingWrites.values().next().value!);
    }
    let ok = true;
    this.input(() => {
      ok = this.tryPropose(() => this.raft!.propose(encodeWrite(writeId, this.opts.payloadBytes)));
      if (ok && this.opts.sabotage === 'ackOnPropose') this.host.onAck(this, writeId, 0);
      else if (ok) this.waitingWrites.add(writeId);
    }, false);
    return ok;
  }

  /**
   * A membership change. `allowed` is checked against the config at the moment Raft takes the
   * proposal (which, while blocked on fsync, is later than the call), as etcd's server checks
   * a removal against the current membership.
   */
  proposeConfChange(cc: ConfChange, allowed: (cs: ConfState) => boolean = () => true): boolean {
    let ok = true;
    this.input(() => {
      ok = allowed(this.confState) && this.tryPropose(() => this.raft!.proposeConfChange(cc));
    }, false);
    return ok;
  }

  /** A linearizable read; served (and checked) once applied reaches the confirmed read index. */
  read(readId: number, ackedBefore: number): void {
    if (this.waitingReads.length >= MAX_WAITING_CLIENTS) this.waitingReads.shift();
    if (this.opts.sabotage === 'staleReads') {
      this.host.onReadServed(this, { readId, ackedBefore, index: this.app.applied });
      return;
    }
    this.input(() => {
      this.waitingReads.push({ readId, ackedBefore });
      this.raft!.readIndex(readContext(readId));
    }, false);
  }

  /** Called by the cluster when this node's persistence of `rd` completes. */
  persisted(incarnation: number): void {
    if (incarnation !== this.incarnation || !this.alive) return; // crashed meanwhile: the write is lost
    const rd = this.persisting;
    if (rd === undefined) throw new Error(`node ${this.id}: persist completion without a Ready`);
    this.persist(rd);
    if (this.host.tracing) this.host.trace(`n${this.id} fsync done${describeReady(rd)}`);
    this.host.onPersisted(this, rd);
    const sentEarly = this.sentEarly;
    this.sentEarly = undefined;
    if (this.opts.sabotage !== 'sendBeforePersist') {
      for (const m of rd.messages) if (sentEarly?.has(m) !== true) this.host.send(this, m);
    }
    this.applyAll(rd.committedEntries);
    this.noteReadStates(rd);
    this.raft!.advance(rd);
    const last = rd.entries.at(-1);
    if (last !== undefined) this.raft!.persisted(last.index, last.term);
    this.persisting = undefined;
    this.serveReads();
    this.maybeCompact();
    this.drainInbox();
  }

  private tryPropose(f: () => void): boolean {
    try {
      f();
      return true;
    } catch (e) {
      if (e instanceof ProposalDroppedError) return false;
      throw e;
    }
  }

  /** Run an input now, or queue it while blocked on persistence (when not stepping meanwhile). */
  private input(f: Input, mayElect: boolean): void {
    if (!this.alive) return;
    if (this.busy && !this.opts.stepWhilePersisting) {
      if (this.inbox.length < MAX_INBOX) this.inbox.push(() => this.step(f, mayElect));
      return;
    }
    this.step(f, mayElect);
    this.pump();
  }

  private step(f: Input, mayElect: boolean): void {
    f();
    if (mayElect) this.host.onMaybeLeader(this);
  }

  /** Everything that queued during the fsync goes into Raft before the next Ready, so it batches. */
  private drainInbox(): void {
    const queued = this.inbox;
    this.inbox = [];
    for (const input of queued) {
      if (!this.alive) return;
      input();
    }
    this.pump();
  }

  /** Take the next Ready if none is in flight; its effects happen when persistence completes. */
  private pump(): void {
    if (!this.alive || this.busy || !this.raft!.hasReady()) return;
    const rd = this.raft!.ready();
    if (rd.hardState !== undefined) this.term = rd.hardState.term;
    if (rd.softState !== undefined) {
      this.state = rd.softState.state;
      this.leader = rd.softState.leader;
    }
    this.persisting = rd;
    this.host.onReady(this, rd);
    if (this.opts.sabotage === 'sendBeforePersist') for (const m of rd.messages) this.host.send(this, m);
    else if (this.opts.leaderSendsEarly) this.sendEarly(rd);
    this.host.schedulePersist(this, this.incarnation, rd);
  }

  /** Appends and heartbeats ahead of the fsync, unless this Ready changes term or vote. */
  private sendEarly(rd: Ready): void {
    const hs = rd.hardState;
    if (hs !== undefined && (hs.term !== this.durableTerm || hs.vote !== this.durableVote)) return;
    const early = rd.messages.filter((m) => m.type === MessageType.App || m.type === MessageType.Heartbeat);
    if (early.length === 0) return;
    this.sentEarly = new Set(early);
    for (const m of early) this.host.send(this, m);
  }

  private persist(rd: Ready): void {
    if (rd.snapshot !== undefined) {
      this.storage.applySnapshot(rd.snapshot);
      this.app = AppStateMachine.decode(rd.snapshot.data, rd.snapshot.metadata.index);
      this.confState = rd.snapshot.metadata.confState;
    }
    this.storage.append(rd.entries);
    if (rd.hardState === undefined) return;
    this.durableTerm = rd.hardState.term;
    this.durableVote = rd.hardState.vote;
    const forget = this.opts.sabotage === 'forgetVote';
    this.storage.setHardState(forget ? { ...rd.hardState, vote: 0n } : rd.hardState);
  }

  /** The entries of the Ready whose persistence is under way (lost if the node crashes now). */
  unsyncedEntries(): Entry[] {
    return this.persisting?.entries ?? [];
  }

  private applyAll(entries: Entry[]): void {
    for (const e of entries) {
      if (e.index <= this.app.applied) throw new Error(`node ${this.id}: entry ${e.index} handed out again`);
      const writeId = this.app.apply(e);
      this.host.onApplied(this, e);
      if (e.type === EntryType.ConfChange) this.applyConf(decodeConfChange(e.data));
      if (writeId !== undefined && this.waitingWrites.delete(writeId))
        this.host.onAck(this, writeId, e.index);
    }
  }

  private applyConf(cc: ConfChange): void {
    this.confState = this.raft!.applyConfChange(cc);
    if (cc.type === ConfChangeType.RemoveNode && cc.nodeId !== this.id) this.fenced.add(cc.nodeId);
    this.host.onConfApplied(this, cc, this.confState);
  }

  private noteReadStates(rd: Ready): void {
    for (const rs of rd.readStates) {
      const readId = decodeReadContext(rs.requestCtx);
      const read = this.waitingReads.find((r) => r.readId === readId && r.index === undefined);
      if (read !== undefined) read.index = rs.index;
    }
  }

  private serveReads(): void {
    const still: PendingRead[] = [];
    for (const r of this.waitingReads) {
      if (r.index !== undefined && r.index <= this.app.applied) this.host.onReadServed(this, r);
      else still.push(r);
    }
    this.waitingReads = still;
  }

  private maybeCompact(): void {
    const snapIndex = this.storage.snapshot().metadata.index;
    if (this.app.applied - snapIndex < this.opts.compactEvery) return;
    this.storage.createSnapshot(this.app.applied, this.confState, this.app.encode());
    const upTo = this.app.applied - this.opts.compactKeep;
    if (upTo >= this.storage.firstIndex()) this.storage.compact(upTo);
    this.host.trace(`n${this.id} snapshot@${this.app.applied} compact<=${upTo}`);
  }
}

export function readContext(readId: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, readId, true);
  return b;
}

function decodeReadContext(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true);
}

function describeReady(rd: Ready): string {
  const parts: string[] = [];
  if (rd.snapshot) parts.push(`snap@${rd.snapshot.metadata.index}`);
  if (rd.entries.length > 0) parts.push(`ents=${rd.entries[0]!.index}..${rd.entries.at(-1)!.index}`);
  const hs = rd.hardState;
  if (hs) parts.push(`hs=(term ${hs.term}, vote ${hs.vote}, commit ${hs.commit})`);
  if (rd.committedEntries.length > 0) {
    parts.push(`apply=${rd.committedEntries[0]!.index}..${rd.committedEntries.at(-1)!.index}`);
  }
  if (rd.messages.length > 0) parts.push(`msgs=${rd.messages.length}`);
  return parts.length === 0 ? '' : ` ${parts.join(' ')}`;
}
