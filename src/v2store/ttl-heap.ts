// The nodes that expire, soonest first (etcd's ttlKeyHeap): a binary heap
// whose positions live on the nodes, so updates and removals are O(log n).
import type { V2Node } from './node.js';

export class TtlHeap {
  private readonly items: V2Node[] = [];

  get size(): number {
    return this.items.length;
  }

  top(): V2Node | undefined {
    return this.items[0];
  }

  push(n: V2Node): void {
    n.heapIndex = this.items.length;
    this.items.push(n);
    this.up(n.heapIndex);
  }

  pop(): V2Node | undefined {
    if (this.items.length === 0) return undefined;
    const last = this.items.length - 1;
    this.swap(0, last);
    this.down(0, last);
    const n = this.items.pop()!;
    n.heapIndex = -1;
    return n;
  }

  remove(n: V2Node): void {
    const i = n.heapIndex;
    if (i < 0 || this.items[i] !== n) return;
    const last = this.items.length - 1;
    if (i !== last) {
      this.swap(i, last);
      if (!this.down(i, last)) this.up(i);
    }
    this.items.pop();
    n.heapIndex = -1;
  }

  /** The node's expire time changed. */
  update(n: V2Node): void {
    if (n.heapIndex < 0 || this.items[n.heapIndex] !== n) return;
    this.remove(n);
    this.push(n);
  }

  private less(i: number, j: number): boolean {
    return this.items[i]!.expireTime! < this.items[j]!.expireTime!;
  }

  private swap(i: number, j: number): void {
    const a = this.items[i]!;
    const b = this.items[j]!;
    this.items[i] = b;
    this.items[j] = a;
    b.heapIndex = i;
    a.heapIndex = j;
  }

  private up(j: number): void {
    while (j > 0) {
      const i = (j - 1) >> 1;
      if (i === j || !this.less(j, i)) break;
      this.swap(i, j);
      j = i;
    }
  }

  private down(i0: number, n: number): boolean {
    let i = i0;
    for (;;) {
      const j1 = 2 * i + 1;
      if (j1 >= n) break;
      let j = j1;
      const j2 = j1 + 1;
      if (j2 < n && this.less(j2, j1)) j = j2;
      if (!this.less(j, i)) break;
      this.swap(i, j);
      i = j;
    }
    return i > i0;
  }
}
