// The simulated network: decides, per message, whether it is dropped, delayed (and so
// reordered) or duplicated, and which nodes can reach each other under partitions.
import type { NodeId } from '../../src/raft/index.js';
import type { Rng } from './rng.js';

export interface NetworkFaults {
  dropP: number;
  dupP: number;
  delayMin: number;
  delayMax: number;
}

export const CALM: NetworkFaults = { dropP: 0, dupP: 0, delayMin: 1, delayMax: 3 };

export class Network {
  /** Partition group of each node; nodes absent from the map are in group 0. */
  private groups = new Map<NodeId, number>();
  /** One-way cuts, as "from>to": the reverse direction still works (asymmetric partitions). */
  private cuts = new Set<string>();
  faults: NetworkFaults = CALM;

  constructor(private readonly rng: Rng) {}

  /** Whether a message sent by `a` reaches `b`. */
  connected(a: NodeId, b: NodeId): boolean {
    if (this.cuts.size > 0 && this.cuts.has(`${a}>${b}`)) return false;
    return (this.groups.get(a) ?? 0) === (this.groups.get(b) ?? 0);
  }

  /** Messages from `from` to `to` are lost; the other direction is untouched. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.cuts.add(`${from}>${to}`);
  }

  /** Split the given nodes into `k` random non-empty-or-empty groups. */
  partition(nodes: readonly NodeId[], k: number): NodeId[][] {
    this.groups.clear();
    const out: NodeId[][] = Array.from({ length: k }, () => []);
    for (const id of nodes) {
      const g = this.rng.int(k);
      this.groups.set(id, g);
      out[g]!.push(id);
    }
    return out;
  }

  /** Cut one node off from everybody else. */
  isolate(id: NodeId): void {
    this.groups.clear();
    this.groups.set(id, 1);
  }

  heal(): void {
    this.groups.clear();
    this.cuts.clear();
  }

  /** Delivery delays for one send: [] when lost, two entries when duplicated. */
  route(from: NodeId, to: NodeId): number[] {
    if (!this.connected(from, to)) return [];
    const f = this.faults;
    if (f.dropP > 0 && this.rng.chance(f.dropP)) return [];
    const delays = [this.rng.range(f.delayMin, f.delayMax)];
    if (f.dupP > 0 && this.rng.chance(f.dupP)) delays.push(this.rng.range(f.delayMin, f.delayMax * 2));
    return delays;
  }

  describe(): string {
    const cuts = [...this.cuts].map((c) => ` cut ${c}`).join('');
    if (this.groups.size === 0) return `${cuts === '' ? 'healed' : 'whole'}${cuts}`;
    const byGroup = new Map<number, NodeId[]>();
    for (const [id, g] of this.groups) byGroup.set(g, [...(byGroup.get(g) ?? []), id]);
    return [...byGroup.entries()]
      .sort((x, y) => x[0] - y[0])
      .map(([g, ids]) => `${g}:{${ids.join(',')}}`)
      .join(' ')
      .concat(cuts);
  }
}
