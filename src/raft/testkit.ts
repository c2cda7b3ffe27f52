// A tiny deterministic in-memory cluster for the unit tests: each node has a MemoryStorage, the
// network is a FIFO queue, and stabilize() runs Ready cycles and deliveries until nothing moves.
// (The randomized simulator with faults lives in test/sim/.)
import { decodeConfChange } from './confchange-codec.js';
import { MemoryStorage } from './memory-storage.js';
import { RawNode } from './raw-node.js';
import {
  type ConfChange,
  ConfChangeType,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  type NodeId,
  type RaftConfig,
  ReadOnlyOption,
  type ReadState,
  type Snapshot,
  type StateType,
} from './types.js';
import { EMPTY_BYTES } from './util.js';

export interface TestNode {
  id: NodeId;
  node: RawNode;
  storage: MemoryStorage;
  /** Data of applied normal entries, in order (no-ops skipped). */
  applied: string[];
  readStates: ReadState[];
  /** Index of the last applied entry, as the application would track it. */
  appliedIndex: number;
  snapshots: Snapshot[];
  /** The config overrides the node was started with (kept across restarts). */
  over: Partial<RaftConfig>;
}

export function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

export function config(id: NodeId, storage: MemoryStorage, over: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id,
    electionTick: 10,
    heartbeatTick: 1,
    storage,
    applied: 0,
    maxSizePerMsg: 1024 * 1024,
    maxInflightMsgs: 256,
    maxInflightBytes: 0,
    maxUncommittedEntriesSize: 0,
    checkQuorum: false,
    preVote: false,
    readOnlyOption: ReadOnlyOption.Safe,
    random: lcg(Number(id) * 7919),
    ...over,
  };
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export function voter(id: NodeId): ConfChange {
  return { type: ConfChangeType.AddNode, nodeId: id, context: EMPTY_BYTES };
}
export function learner(id: NodeId): ConfChange {
  return { type: ConfChangeType.AddLearnerNode, nodeId: id, context: EMPTY_BYTES };
}

export class Network {
  readonly nodes = new Map<NodeId, TestNode>();
  queue: Message[] = [];
  /** Return false to drop a message. */
  filter: (m: Message) => boolean = () => true;
  private readonly cut = new Set<string>();
  /** Report lost snapshots to their sender (etcd's transport does); tests of the report itself turn it off. */
  reportLostSnapshots = true;
  /** Members removed by an applied conf change: like etcd's transport, drop what they send. */
  readonly removed = new Set<NodeId>();
  /** Every message ever sent, for assertions on traffic. */
  readonly sent: Message[] = [];

  static create(voters: number[], learners: number[] = [], over: Partial<RaftConfig> = {}): Network {
    const net = new Network();
    const peers = [...voters.map((v) => voter(BigInt(v))), ...learners.map((l) => learner(BigInt(l)))];
    for (const id of [...voters, ...learners]) net.addNode(BigInt(id), peers, over);
    net.stabilize();
    return net;
  }

  /** Start a node; with `peers` it bootstraps a new cluster, without it joins empty (like a new member). */
  addNode(id: NodeId, peers: ConfChange[] | undefined, over: Partial<RaftConfig> = {}): TestNode {
    const storage = new MemoryStorage();
    const node = new RawNode(config(id, storage, over));
    if (peers) node.bootstrap(peers);
    const tn: TestNode = {
      id,
      node,
      storage,
      applied: [],
      readStates: [],
      appliedIndex: 0,
      snapshots: [],
      over,
    };
    this.nodes.set(id, tn);
    return tn;
  }

  /**
   * Crash and restart a node from its storage (everything persisted survives). The application
   * passes the index it has applied, as a server with a durable state machine would.
   */
  restart(id: number, over: Partial<RaftConfig> = {}): TestNode {
    const old = this.get(id);
    const node = new RawNode(
      config(old.id, old.storage, { ...old.over, applied: old.appliedIndex, ...over }),
    );
    const tn: TestNode = { ...old, node };
    this.nodes.set(old.id, tn);
    return tn;
  }

  /** Snapshot a node at its applied index and drop the log up to there, as a server does. */
  compact(id: number): number {
    const tn = this.get(id);
    const index = tn.appliedIndex;
    const snap = tn.storage.snapshot().metadata.index;
    if (index <= snap) return snap;
    tn.storage.createSnapshot(index, tn.node.status().confState, enc(JSON.stringify(tn.applied)));
    tn.storage.compact(index);
    return index;
  }

  get(id: number | bigint): TestNode {
    const tn = this.nodes.get(BigInt(id));
    if (!tn) throw new Error(`no node ${id}`);
    return tn;
  }

  state(id: number): StateType {
    return this.get(id).node.status().softState.state;
  }

  term(id: number): number {
    return this.get(id).node.status().hardState.term;
  }

  leaderOf(id: number): bigint {
    return this.get(id).node.status().softState.leader;
  }

  isolate(id: number): void {
    for (const other of this.nodes.keys()) {
      if (other === BigInt(id)) continue;
      this.cutLink(BigInt(id), other);
    }
  }

  cutLink(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}-${b}`);
    this.cut.add(`${b}-${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Run one Ready cycle on a node, as an application would. */
  processReady(tn: TestNode): void {
    if (!tn.node.hasReady()) return;
    const rd = tn.node.ready();
    if (rd.snapshot) {
      tn.storage.applySnapshot(rd.snapshot);
      tn.snapshots.push(rd.snapshot);
      tn.appliedIndex = rd.snapshot.metadata.index;
      // The state machine image of these tests is the list of applied values.
      tn.applied = JSON.parse(dec(rd.snapshot.data)) as string[];
    }
    tn.storage.append(rd.entries);
    if (rd.hardState) tn.storage.setHardState(rd.hardState);
    for (const m of rd.messages) {
      this.sent.push(m);
      this.queue.push(m);
    }
    tn.readStates.push(...rd.readStates);
    for (const e of rd.committedEntries) this.applyEntry(tn, e);
    tn.node.advance(rd);
  }

  private applyEntry(tn: TestNode, e: Entry): void {
    if (e.index <= tn.appliedIndex) return;
    tn.appliedIndex = e.index;
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConfChange(e.data);
      tn.node.applyConfChange(cc);
      if (cc.type === ConfChangeType.RemoveNode) this.removed.add(cc.nodeId);
    } else if (e.data.length > 0) tn.applied.push(dec(e.data));
  }

  deliver(m: Message): void {
    const tn = this.nodes.get(m.to);
    if (!tn || this.removed.has(m.from) || this.cut.has(`${m.from}-${m.to}`) || !this.filter(m)) {
      this.lose(m);
      return;
    }
    tn.node.step(m);
    // Like etcd's transport, report the outcome of every snapshot sent.
    if (m.type === MessageType.Snap) this.nodes.get(m.from)?.node.reportSnapshot(m.to, true);
  }

  /** A message the network lost. A lost snapshot is reported to the sender, as etcd's transport does. */
  lose(m: Message): void {
    if (m.type === MessageType.Snap && this.reportLostSnapshots)
      this.nodes.get(m.from)?.node.reportSnapshot(m.to, false);
  }

  /** Ready cycles and deliveries until quiet; bounded so a livelock fails the test instead of hanging. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const tn of this.nodes.values()) {
        if (tn.node.hasReady()) {
          this.processReady(tn);
          moved = true;
        }
      }
      const batch = this.queue;
      this.queue = [];
      for (const m of batch) this.deliver(m);
      if (!moved && batch.length === 0) return;
    }
    throw new Error('network did not stabilize');
  }

  tick(id: number, n = 1): void {
    for (let i = 0; i < n; i++) this.get(id).node.tick();
  }

  /** Tick every node n times, stabilizing after each tick. */
  tickAll(n: number): void {
    for (let i = 0; i < n; i++) {
      for (const tn of this.nodes.values()) tn.node.tick();
      this.stabilize();
    }
  }

  campaign(id: number): void {
    this.get(id).node.campaign();
    this.stabilize();
  }

  propose(id: number, data: string): void {
    this.get(id).node.propose(enc(data));
    this.stabilize();
  }
}

/** Run one Ready cycle on node `id` and take its messages off the network (for step-by-step tests). */
export function takeMessages(net: Network, id: number): Message[] {
  const tn = net.get(id);
  const before = net.queue.length;
  net.processReady(tn);
  const mine = net.queue.slice(before);
  net.queue = net.queue.slice(0, before);
  return mine;
}

/** A message from the network with all defaults filled. */
export function msg(init: Partial<Message> & Pick<Message, 'type' | 'from' | 'to' | 'term'>): Message {
  return { logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...init };
}
