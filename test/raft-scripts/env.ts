// The world a script drives: RawNodes over MemoryStorages, an application loop per node that
// does exactly what the Ready contract asks, and a network that only moves messages when told.
// Everything that happens is appended to `out`, which becomes the command's transcript.
import {
  ConfChangeType,
  type ConfState,
  decodeConfChange,
  type Entry,
  EntryType,
  type MemoryStorage,
  type Message,
  MessageType,
  type NodeId,
  type RaftConfig,
  RawNode,
  ReadOnlyOption,
  type Ready,
} from '../../src/raft/index.js';
import * as fmt from './format.js';

/** Config knobs a script may set per add-nodes command. */
export type NodeOptions = Pick<
  RaftConfig,
  | 'electionTick'
  | 'heartbeatTick'
  | 'maxSizePerMsg'
  | 'maxInflightMsgs'
  | 'maxInflightBytes'
  | 'maxUncommittedEntriesSize'
  | 'checkQuorum'
  | 'preVote'
  | 'readOnlyOption'
> & { seed: number };

export const DEFAULT_OPTIONS: NodeOptions = {
  electionTick: 10,
  heartbeatTick: 1,
  maxSizePerMsg: 1024 * 1024,
  maxInflightMsgs: 256,
  maxInflightBytes: 0,
  maxUncommittedEntriesSize: 0,
  checkQuorum: false,
  preVote: false,
  readOnlyOption: ReadOnlyOption.Safe,
  seed: 1,
};

/** The application side of one member. Its state machine is the list of applied values, kept durably. */
export interface ScriptNode {
  id: NodeId;
  /** undefined while crashed. */
  raw: RawNode | undefined;
  storage: MemoryStorage;
  options: NodeOptions;
  appliedIndex: number;
  /** Applied normal entries with data, in order. */
  values: { index: number; data: string }[];
  /** Membership after each applied conf change (or restored snapshot), to snapshot at any index. */
  confHistory: { index: number; cs: ConfState }[];
  /** Members this node has seen removed: like etcd's transport, it no longer accepts their messages. */
  removedPeers: Set<NodeId>;
}

interface InFlight {
  /** The node whose Ready produced the message (forwarded requests keep the original `from`). */
  sender: NodeId;
  msg: Message;
}

/** Bound on queued messages per recipient: a runaway scenario must fail, not eat memory. */
const MAX_QUEUE = 10_000;

export class Env {
  readonly nodes = new Map<NodeId, ScriptNode>();
  /** Messages waiting for delivery, per recipient, in send order. */
  readonly queues = new Map<NodeId, InFlight[]>();
  /** Partition group of each node; nodes in different groups cannot talk. Empty = fully connected. */
  groups = new Map<NodeId, number>();
  out: string[] = [];

  emit(line: string): void {
    this.out.push(line);
  }

  get(id: NodeId): ScriptNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  raw(id: NodeId): RawNode {
    const n = this.get(id);
    if (n.raw === undefined) throw new Error(`node ${id} is down`);
    return n.raw;
  }

  sortedIds(): NodeId[] {
    return [...this.nodes.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  newRawNode(n: ScriptNode): RawNode {
    const o = n.options;
    return new RawNode({
      id: n.id,
      electionTick: o.electionTick,
      heartbeatTick: o.heartbeatTick,
      storage: n.storage,
      applied: n.appliedIndex,
      maxSizePerMsg: o.maxSizePerMsg,
      maxInflightMsgs: o.maxInflightMsgs,
      maxInflightBytes: o.maxInflightBytes,
      maxUncommittedEntriesSize: o.maxUncommittedEntriesSize,
      checkQuorum: o.checkQuorum,
      preVote: o.preVote,
      readOnlyOption: o.readOnlyOption,
      random: lcg(Number(n.id) * 7919 + o.seed),
      logger: (level, msg, fields) => {
        if (level === 'debug') return;
        const { id, ...rest } = fields ?? {};
        const kv = Object.entries(rest).map(([k, v]) => `${k}=${String(v)}`);
        this.emit(
          `  ${String(id ?? n.id)} ${level.toUpperCase()} ${msg}${kv.length > 0 ? ` ${kv.join(' ')}` : ''}`,
        );
      },
    });
  }

  // ---- the application loop ----

  /** One Ready cycle, in the order the Ready contract asks; returns false when there was nothing to do. */
  processReady(id: NodeId): boolean {
    const n = this.get(id);
    const raw = this.raw(id);
    if (!raw.hasReady()) return false;
    const rd = raw.ready();
    this.emit(`ready ${id}`);
    this.persist(n, rd);
    for (const m of rd.messages) {
      this.emit(`  send ${fmt.message(m)}`);
      this.enqueue(id, m);
    }
    for (const rs of rd.readStates)
      this.emit(`  read-state index=${rs.index} ctx=${fmt.bytes(rs.requestCtx)}`);
    for (const e of rd.committedEntries) this.apply(n, raw, e);
    raw.advance(rd);
    return true;
  }

  private persist(n: ScriptNode, rd: Ready): void {
    if (rd.softState) this.emit(`  state ${fmt.stateName(rd.softState.state)} lead=${rd.softState.leader}`);
    if (rd.hardState) {
      const hs = rd.hardState;
      this.emit(`  hardstate term=${hs.term} vote=${hs.vote} commit=${hs.commit}`);
    }
    if (rd.snapshot) {
      this.emit(`  snapshot ${fmt.snapshot(rd.snapshot)}`);
      n.storage.applySnapshot(rd.snapshot);
      restoreStateMachine(n, rd.snapshot.metadata.index, rd.snapshot.data, rd.snapshot.metadata.confState);
    }
    for (const e of rd.entries) this.emit(`  persist ${fmt.entry(e)}`);
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
  }

  private apply(n: ScriptNode, raw: RawNode, e: Entry): void {
    // After a restart the application may see entries it applied before; its state machine is durable.
    if (e.index <= n.appliedIndex) {
      this.emit(`  skip ${fmt.entry(e)} (already applied)`);
      return;
    }
    n.appliedIndex = e.index;
    if (e.type === EntryType.ConfChange) {
      const cc = decodeConfChange(e.data);
      const cs = raw.applyConfChange(cc);
      n.confHistory.push({ index: e.index, cs });
      if (cc.type === ConfChangeType.RemoveNode) n.removedPeers.add(cc.nodeId);
      this.emit(`  apply ${fmt.entry(e)} => ${fmt.confState(cs)}`);
      return;
    }
    if (e.data.length > 0) n.values.push({ index: e.index, data: new TextDecoder().decode(e.data) });
    this.emit(`  apply ${fmt.entry(e)}`);
  }

  // ---- the network ----

  private enqueue(sender: NodeId, m: Message): void {
    const q = this.queues.get(m.to) ?? [];
    if (q.length >= MAX_QUEUE) throw new Error(`more than ${MAX_QUEUE} messages queued for ${m.to}`);
    q.push({ sender, msg: m });
    this.queues.set(m.to, q);
  }

  pendingCount(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  connected(a: NodeId, b: NodeId): boolean {
    return (this.groups.get(a) ?? -1) === (this.groups.get(b) ?? -1);
  }

  /** Deliver (or drop) the queued messages that match; recipients in id order, each in FIFO order. */
  deliver(match: (f: InFlight) => boolean, drop: boolean): void {
    for (const to of [...this.queues.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const q = this.queues.get(to) ?? [];
      const take = q.filter(match);
      this.queues.set(
        to,
        q.filter((f) => !match(f)),
      );
      for (const f of take) this.deliverOne(f, drop);
    }
  }

  private deliverOne(f: InFlight, drop: boolean): void {
    const m = f.msg;
    const line = fmt.message(m, f.sender);
    const target = this.nodes.get(m.to);
    const why = drop
      ? 'dropped'
      : target?.raw === undefined
        ? 'dropped (recipient down)'
        : target.removedPeers.has(f.sender)
          ? 'dropped (sender removed)'
          : !this.connected(f.sender, m.to)
            ? 'dropped (partitioned)'
            : undefined;
    if (why !== undefined || target?.raw === undefined) {
      this.emit(`${why ?? 'dropped'} ${line}`);
      // etcd's transport reports every snapshot's outcome to its sender, lost ones too.
      if (m.type === MessageType.Snap) this.reportSnapshot(f.sender, m.to, false);
      return;
    }
    this.emit(`deliver ${line}`);
    target.raw.step(m);
    if (m.type === MessageType.Snap) this.reportSnapshot(f.sender, m.to, true);
  }

  private reportSnapshot(sender: NodeId, to: NodeId, ok: boolean): void {
    const raw = this.nodes.get(sender)?.raw;
    if (raw === undefined) return;
    this.emit(`report-snapshot ${sender}: to=${to} ${ok ? 'ok' : 'failed'}`);
    raw.reportSnapshot(to, ok);
  }
}

/** A snapshot replaces the state machine: values up to its index, membership as of its index. */
export function restoreStateMachine(n: ScriptNode, index: number, data: Uint8Array, cs: ConfState): void {
  const values = JSON.parse(new TextDecoder().decode(data)) as { index: number; data: string }[];
  n.values = values;
  n.appliedIndex = index;
  n.confHistory = [{ index, cs }];
}

/** The state machine image at `index`, as a snapshot carries it. */
export function stateMachineImage(n: ScriptNode, index: number): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(n.values.filter((v) => v.index <= index)));
}

/** Membership as of `index`: the last conf change applied at or below it. */
export function confStateAt(n: ScriptNode, index: number): ConfState {
  let cs: ConfState = { voters: [], learners: [] };
  for (const h of n.confHistory) if (h.index <= index) cs = h.cs;
  return cs;
}

/** Small seeded generator for election jitter: the same script always picks the same timeouts. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
