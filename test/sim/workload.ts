// The random workload of the fault phase: client writes and reads, membership changes,
// leadership transfers, crashes and restarts, partitions and heals.
import { type ConfChange, ConfChangeType, type ConfState, type NodeId } from '../../src/raft/index.js';
import { type Cluster, confChangeName } from './cluster.js';
import type { SimNode } from './node.js';
import { TICK } from './options.js';
import type { Rng } from './rng.js';

type Action = 'write' | 'read' | 'conf' | 'transfer' | 'crash' | 'partition' | 'heal' | 'campaign';

const WEIGHTS: [Action, number][] = [
  ['write', 40],
  ['read', 15],
  ['conf', 5],
  ['transfer', 3],
  ['crash', 3],
  ['partition', 3],
  ['heal', 4],
  ['campaign', 1],
];

export class Workload {
  private nextWriteId = 1;
  private nextReadId = 1;
  private running = false;
  /** Ids a removal was ever proposed for: never promoted or re-added (etcd never reuses member ids). */
  private readonly retired = new Set<NodeId>();
  writesProposed = 0;
  readsIssued = 0;
  confChanges = 0;
  crashes = 0;

  constructor(
    private readonly c: Cluster,
    private readonly rng: Rng,
  ) {}

  start(): void {
    this.running = true;
    this.scheduleNext();
  }

  stop(): void {
    this.running = false;
  }

  newWriteId(): number {
    return this.nextWriteId++;
  }

  private scheduleNext(): void {
    const gap = this.c.opts.actionGap;
    this.c.after(this.rng.range(1, 2 * gap), '', () => {
      if (!this.running) return;
      this.act(this.pickAction());
      this.scheduleNext();
    });
  }

  private pickAction(): Action {
    const total = WEIGHTS.reduce((s, [, w]) => s + w, 0);
    let r = this.rng.int(total);
    for (const [a, w] of WEIGHTS) {
      if (r < w) return a;
      r -= w;
    }
    throw new Error('unreachable');
  }

  private act(a: Action): void {
    const c = this.c;
    switch (a) {
      case 'write':
        this.write();
        return;
      case 'read':
        this.read();
        return;
      case 'conf':
        if (c.opts.membership) this.changeMembership();
        return;
      case 'transfer':
        this.transfer();
        return;
      case 'crash':
        if (c.opts.crashes) this.crashOne();
        return;
      case 'partition':
        this.partition();
        return;
      case 'heal':
        c.trace('HEAL network');
        c.net.heal();
        return;
      case 'campaign': {
        const n = this.randomMember();
        if (n === undefined) return;
        c.trace(`n${n.id} campaign()`);
        n.campaign();
        return;
      }
    }
  }

  private randomMember(): SimNode | undefined {
    const ms = this.c.members();
    return ms.length === 0 ? undefined : this.rng.pick(ms);
  }

  /** Half the time at the leader, otherwise at any member (followers forward). */
  private write(): void {
    const leader = this.c.leader();
    const n = leader !== undefined && this.rng.chance(0.5) ? leader : this.randomMember();
    if (n === undefined) return;
    const id = this.newWriteId();
    const ok = n.propose(id);
    this.writesProposed++;
    this.c.trace(`n${n.id} propose write ${id}${ok ? '' : ' (dropped)'}`);
  }

  private read(): void {
    const n = this.randomMember();
    if (n === undefined) return;
    const id = this.nextReadId++;
    this.readsIssued++;
    this.c.trace(`n${n.id} read ${id} issued (acked so far ${this.c.check.acked.length})`);
    n.read(id, this.c.check.acked.length);
  }

  /** One change based on the leader's applied config; Raft itself keeps changes one at a time. */
  private changeMembership(): void {
    const leader = this.c.leader();
    if (leader === undefined) return;
    const cs = leader.confState;
    const choices: (() => ConfChange | undefined)[] = [
      () => this.joiner(ConfChangeType.AddLearnerNode),
      () => this.joiner(ConfChangeType.AddNode),
      () => this.change(ConfChangeType.AddNode, cs.learners),
      // Only from 3+ voters: with config applied at commit (as etcd does), removing one of two voters
      // can wedge the other if the removed one commits and steps down before the survivor learns the
      // commit (etcd's raft README warns of exactly this; it advises 3+ members).
      // Nor the leader itself: if it commits its own removal and is then deposed before a lagging
      // peer learns of it, that peer (on the old config) can stall elections for a long time.
      () =>
        this.change(
          ConfChangeType.RemoveNode,
          cs.voters.filter((v) => v !== leader.id && removable(cs, v)),
        ),
      () => this.change(ConfChangeType.RemoveNode, cs.learners),
    ];
    const cc = this.rng.pick(choices)();
    if (cc === undefined) return;
    if (cc.type === ConfChangeType.RemoveNode) this.retired.add(cc.nodeId);
    const ok = leader.proposeConfChange(
      cc,
      (now) => cc.type !== ConfChangeType.RemoveNode || removable(now, cc.nodeId),
    );
    this.confChanges++;
    this.c.trace(`n${leader.id} propose conf ${confChangeName(cc)}${ok ? '' : ' (dropped)'}`);
  }

  private joiner(type: ConfChangeType): ConfChange | undefined {
    const n = this.c.createJoiner();
    return n === undefined ? undefined : { type, nodeId: n.id, context: new Uint8Array() };
  }

  private change(type: ConfChangeType, among: NodeId[]): ConfChange | undefined {
    const candidates = among.filter((id) => !this.retired.has(id));
    if (candidates.length === 0) return undefined;
    return { type, nodeId: this.rng.pick(candidates), context: new Uint8Array() };
  }

  private transfer(): void {
    const leader = this.c.leader();
    if (leader === undefined) return;
    // Learners included: Raft must refuse to hand leadership to a non-voter.
    const cs = leader.confState;
    const others = [...cs.voters, ...cs.learners].filter((v) => v !== leader.id);
    if (others.length === 0) return;
    const to = this.rng.pick(others);
    this.c.trace(`n${leader.id} transferLeader(n${to})`);
    leader.transferLeader(to);
  }

  private crashOne(): void {
    const n = this.randomMember();
    if (n === undefined) return;
    this.crashes++;
    this.c.crash(n);
    this.c.sched.after(this.rng.range(TICK, 50 * TICK), { k: 'restart', id: n.id });
  }

  private partition(): void {
    const c = this.c;
    const ids = [...c.nodes.keys()];
    const leader = c.leader();
    const roll = this.rng.next();
    if (leader !== undefined && roll < 0.25) {
      c.net.isolate(leader.id);
    } else if (ids.length > 1 && roll < 0.5) {
      const from = this.rng.pick(ids);
      const to = this.rng.pick(ids.filter((id) => id !== from));
      c.net.cutOneWay(from, to);
    } else {
      c.net.partition(ids, this.rng.range(2, 3));
    }
    c.trace(`PARTITION ${c.net.describe()}`);
  }
}

/** Learners always; voters only from a config of 3+ voters (see changeMembership). */
function removable(cs: ConfState, id: NodeId): boolean {
  return cs.learners.includes(id) || (cs.voters.includes(id) && cs.voters.length >= 3);
}
