// A whole cluster in one process: nodes, the simulated network and clock, and the event
// loop that drives them. Node hooks feed the checkers after every step.
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  type Entry,
  type Message,
  MessageType,
  type NodeId,
  type Ready,
  StateType,
} from '../../src/raft/index.js';
import { Checkers, SimViolation } from './checkers.js';
import { Network } from './network.js';
import { type NodeHost, type PendingRead, SimNode } from './node.js';
import { type SimOptions, TICK } from './options.js';
import type { Rng } from './rng.js';
import { Scheduler } from './scheduler.js';

export type SimEvent =
  | { k: 'tick'; id: NodeId; inc: number }
  | { k: 'deliver'; via: NodeId; m: Message }
  | { k: 'persist'; id: NodeId; inc: number }
  | { k: 'snapStatus'; from: NodeId; to: NodeId; ok: boolean }
  | { k: 'unreachable'; from: NodeId; to: NodeId }
  | { k: 'restart'; id: NodeId }
  | { k: 'call'; what: string; f: () => void };

const MAX_EVENTS_PENDING = 500_000;
/** Requests a follower passes on to its leader keeping the originator in `from` (as etcd's raft does). */
const FORWARDED = new Set<number>([MessageType.Prop, MessageType.ReadIndex, MessageType.TransferLeader]);
/** Bound on the number of members ever created in one run. */
export const MAX_NODES_EVER = 9;

export class Cluster implements NodeHost {
  readonly sched = new Scheduler<SimEvent>(MAX_EVENTS_PENDING);
  readonly net: Network;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly check = new Checkers();
  private readonly rng: Rng;
  private readonly persistRng: Rng;
  private nextNodeId = 1n;
  steps = 0;
  messagesSent = 0;

  constructor(
    readonly opts: SimOptions,
    rng: Rng,
    private readonly traceSink?: (line: string) => void,
  ) {
    this.rng = rng;
    this.net = new Network(this.rng.fork());
    this.net.faults = opts.faults;
    this.persistRng = this.rng.fork();
  }

  get now(): number {
    return this.sched.now;
  }

  get tracing(): boolean {
    return this.traceSink !== undefined;
  }

  /** Create the founding members and boot them. */
  bootstrap(): void {
    const founders: NodeId[] = [];
    for (let i = 0; i < this.opts.nodes; i++) founders.push(this.nextNodeId++);
    for (const id of founders) this.createNode(id, founders);
  }

  /** A brand-new member with an empty disk, to be added by a conf change. */
  createJoiner(): SimNode | undefined {
    if (this.nodes.size >= MAX_NODES_EVER) return undefined;
    return this.createNode(this.nextNodeId++, undefined);
  }

  private createNode(id: NodeId, founders: NodeId[] | undefined): SimNode {
    const node = new SimNode(id, this, this.opts.tuning, this.opts.node, this.rng.fork(), founders);
    this.nodes.set(id, node);
    this.trace(`create n${id}${founders ? ' (founder)' : ' (joiner)'}`);
    this.startNode(node);
    return node;
  }

  private startNode(node: SimNode): void {
    node.start();
    this.sched.after(this.rng.range(1, TICK), { k: 'tick', id: node.id, inc: node.incarnation });
  }

  crash(node: SimNode): void {
    this.trace(`CRASH n${node.id} (durable last=${node.storage.lastIndex()})`);
    node.crash();
  }

  restart(node: SimNode): void {
    if (node.alive || node.removed) return;
    this.trace(`RESTART n${node.id}`);
    this.startNode(node);
  }

  /** Live members that have not been removed, in id order. */
  members(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive && !n.removed);
  }

  /** The live, non-removed node that believes it leads the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.members()) {
      if (n.state === StateType.Leader && (best === undefined || n.term > best.term)) best = n;
    }
    return best;
  }

  /** Process events until simulated time passes `until` or `stop()` says so. */
  runUntil(until: number, stop?: () => boolean): void {
    for (;;) {
      if (stop?.()) return;
      const at = this.sched.peekTime();
      if (at === undefined) throw new Error('sim: no events left (ticks should never stop)');
      if (at > until) return;
      const next = this.sched.pop()!;
      this.steps++;
      this.handle(next.event);
    }
  }

  after(delay: number, what: string, f: () => void): void {
    this.sched.after(delay, { k: 'call', what, f });
  }

  private handle(ev: SimEvent): void {
    switch (ev.k) {
      case 'tick': {
        const n = this.nodes.get(ev.id)!;
        if (!n.alive || n.incarnation !== ev.inc) return; // this tick chain died with a crash
        this.traceSink?.(`[t=${this.now}] tick n${n.id}`);
        n.tick();
        // Clocks drift a little: each tick interval is TICK +- 1 (ReadIndex in Safe mode must not care).
        this.sched.after(TICK - 1 + this.rng.int(3), ev);
        return;
      }
      case 'deliver':
        this.deliver(ev.via, ev.m);
        return;
      case 'persist':
        this.nodes.get(ev.id)!.persisted(ev.inc);
        return;
      case 'snapStatus':
        this.trace(`snap status n${ev.from}->n${ev.to} ok=${ev.ok}`);
        this.nodes.get(ev.from)!.reportSnapshot(ev.to, ev.ok);
        return;
      case 'unreachable':
        this.nodes.get(ev.from)!.reportUnreachable(ev.to);
        return;
      case 'restart':
        this.restart(this.nodes.get(ev.id)!);
        return;
      case 'call':
        if (ev.what !== '') this.trace(ev.what);
        ev.f();
        return;
    }
  }

  /** `via` is the actual sender: a follower forwards some requests keeping their origin in `from`. */
  private deliver(via: NodeId, m: Message): void {
    const to = this.nodes.get(m.to)!;
    if (!this.net.connected(via, m.to) || !to.alive) {
      this.traceMsg('drop', m);
      if (m.type === MessageType.Snap)
        this.sched.after(1, { k: 'snapStatus', from: m.from, to: m.to, ok: false });
      return;
    }
    if (to.fenced.has(via)) {
      this.removedPeerContacted(via, to);
      return;
    }
    this.traceMsg('recv', m);
    to.deliver(m);
    if (m.type === MessageType.Snap)
      this.sched.after(1, { k: 'snapStatus', from: m.from, to: m.to, ok: true });
  }

  /**
   * Like etcd's peer transport answering 410 Gone: a removed member that contacts a peer which has
   * applied its removal learns it is out and stops for good.
   */
  private removedPeerContacted(gone: NodeId, by: SimNode): void {
    const n = this.nodes.get(gone)!;
    if (!n.alive) return;
    this.trace(`n${gone} is told by n${by.id} that it was removed; it stops`);
    n.removed = true;
    this.crash(n);
  }

  // ---- NodeHost ----

  schedulePersist(node: SimNode, incarnation: number, rd: Ready): void {
    const writes = rd.entries.length > 0 || rd.hardState !== undefined || rd.snapshot !== undefined;
    const delay = writes ? this.persistRng.range(1, this.opts.persistMax) : 0;
    this.sched.after(delay, { k: 'persist', id: node.id, inc: incarnation });
  }

  send(from: SimNode, m: Message): void {
    this.messagesSent++;
    if (!this.nodes.has(m.to))
      throw new SimViolation('addressing', `n${from.id} sent ${m.type} to unknown n${m.to}`);
    if (m.from !== from.id && !FORWARDED.has(m.type)) {
      throw new SimViolation('addressing', `n${from.id} sent a message from n${m.from}`);
    }
    const delays = this.net.route(from.id, m.to);
    if (delays.length === 0) {
      this.traceMsg('lost', m);
      if (m.type === MessageType.Snap)
        this.sched.after(1, { k: 'snapStatus', from: m.from, to: m.to, ok: false });
      else if (!this.net.connected(from.id, m.to))
        this.sched.after(1, { k: 'unreachable', from: from.id, to: m.to });
      return;
    }
    if (m.type === MessageType.Snap) m = withFreshSnapshot(from, m);
    for (const d of delays) this.sched.after(d, { k: 'deliver', via: from.id, m: copyMessage(m) });
  }

  onReady(node: SimNode, rd: Ready): void {
    this.check.onReady(node, rd);
  }

  onPersisted(node: SimNode, rd: Ready): void {
    this.check.onPersisted(node, rd);
  }

  onApplied(node: SimNode, e: Entry): void {
    this.check.onApplied(node, e);
  }

  onConfApplied(node: SimNode, cc: ConfChange, cs: ConfState): void {
    this.trace(
      `n${node.id} applied conf ${confChangeName(cc)} -> voters=[${cs.voters}] learners=[${cs.learners}]`,
    );
    if (cc.type === ConfChangeType.RemoveNode) {
      const gone = this.nodes.get(cc.nodeId);
      if (gone !== undefined && !gone.removed) {
        gone.removed = true;
        this.trace(`n${cc.nodeId} is removed from the cluster`);
      }
    }
  }

  onAck(node: SimNode, writeId: number, index: number): void {
    this.trace(`n${node.id} ack write ${writeId} at ${index}`);
    this.check.onAck(writeId, index);
  }

  onReadServed(node: SimNode, read: PendingRead): void {
    this.trace(`n${node.id} read ${read.readId} served at index ${read.index} (applied ${node.app.applied})`);
    this.check.onReadServed(node, read);
  }

  onMaybeLeader(node: SimNode): void {
    const st = node.raft!.status();
    if (st.softState.state === StateType.Leader) this.check.observeLeader(node, st.hardState.term);
  }

  trace(line: string): void {
    if (this.traceSink !== undefined) this.traceSink(`[t=${this.now}] ${line}`);
  }

  private traceMsg(verb: string, m: Message): void {
    if (this.traceSink === undefined) return;
    const kind = Object.entries(MessageType).find(([, v]) => v === m.type)?.[0] ?? String(m.type);
    const extra =
      m.entries.length > 0 ? ` ents=${m.entries[0]!.index}..${m.entries[m.entries.length - 1]!.index}` : '';
    this.trace(
      `${verb} ${kind} n${m.from}->n${m.to} term=${m.term} idx=${m.index} logTerm=${m.logTerm} commit=${m.commit}` +
        `${m.reject ? ' reject' : ''}${extra}${m.snapshot ? ` snap@${m.snapshot.metadata.index}` : ''}`,
    );
  }
}

/**
 * When the stored snapshot predates the recipient's own addition (Raft refuses a snapshot whose
 * config lacks the recipient), send the sender's current applied state instead, as etcd's server
 * always does. Otherwise send the stored one, so both paths get exercised.
 */
function withFreshSnapshot(from: SimNode, m: Message): Message {
  const stored = m.snapshot!;
  const cs = stored.metadata.confState;
  if (cs.voters.includes(m.to) || cs.learners.includes(m.to)) return m; // the stored one will do
  const applied = from.app.applied;
  if (applied < stored.metadata.index)
    throw new SimViolation('snapshot', `n${from.id} applied ${applied} < snapshot`);
  const metadata = { index: applied, term: from.storage.term(applied), confState: from.confState };
  return { ...m, snapshot: { metadata, data: from.app.encode() } };
}

/** What a real transport would do: the receiver gets its own copy, never the sender's objects. */
function copyMessage(m: Message): Message {
  return { ...m, entries: m.entries.map((e) => ({ ...e })) };
}

export function confChangeName(cc: ConfChange): string {
  const kind = Object.entries(ConfChangeType).find(([, v]) => v === cc.type)?.[0] ?? String(cc.type);
  return `${kind}(n${cc.nodeId})`;
}
