// An indexed binary min-heap of (time, id): at most one entry per id, ordered by time and then by id
// so equal times come out in a deterministic order. Insert, move and remove cost O(log n); looking at
// the earliest entry costs O(1). The lessor keeps one for expiries and one for checkpoint deadlines.

import type { LeaseId } from './types.js';

export interface QueueEntry {
  id: LeaseId;
  time: number;
}

export class ExpiryQueue {
  // The heap lives in two parallel arrays; `slot` maps an id to its position in them.
  private readonly ids: LeaseId[] = [];
  private readonly times: number[] = [];
  private readonly slot = new Map<LeaseId, number>();

  get size(): number {
    return this.ids.length;
  }

  has(id: LeaseId): boolean {
    return this.slot.has(id);
  }

  /** The time queued for `id`, if any. */
  timeOf(id: LeaseId): number | undefined {
    const i = this.slot.get(id);
    return i === undefined ? undefined : this.times[i];
  }

  /** Queue `id` at `time`, or move it there if it is already queued. */
  set(id: LeaseId, time: number): void {
    if (Number.isNaN(time)) throw new RangeError('queue time must not be NaN');
    const i = this.slot.get(id);
    if (i === undefined) {
      const n = this.ids.length;
      this.ids.push(id);
      this.times.push(time);
      this.slot.set(id, n);
      this.up(n);
      return;
    }
    const old = this.times[i]!;
    this.times[i] = time;
    if (time < old) this.up(i);
    else if (time > old) this.down(i);
  }

  /** Remove `id`; false if it was not queued. */
  delete(id: LeaseId): boolean {
    const i = this.slot.get(id);
    if (i === undefined) return false;
    this.removeAt(i);
    return true;
  }

  /** The earliest entry without removing it. */
  peek(): QueueEntry | undefined {
    if (this.ids.length === 0) return undefined;
    return { id: this.ids[0]!, time: this.times[0]! };
  }

  /** Remove and return the earliest entry. */
  pop(): QueueEntry | undefined {
    if (this.ids.length === 0) return undefined;
    const top = { id: this.ids[0]!, time: this.times[0]! };
    this.removeAt(0);
    return top;
  }

  clear(): void {
    this.ids.length = 0;
    this.times.length = 0;
    this.slot.clear();
  }

  /** Checks the heap order and the index; for tests. */
  checkConsistency(): void {
    if (this.slot.size !== this.ids.length) throw new Error('index size differs from heap size');
    for (let i = 0; i < this.ids.length; i++) {
      if (this.slot.get(this.ids[i]!) !== i) throw new Error(`index of slot ${i} is stale`);
      if (i > 0 && this.less(i, (i - 1) >> 1)) throw new Error(`heap order broken at slot ${i}`);
    }
  }

  private removeAt(i: number): void {
    const last = this.ids.length - 1;
    this.slot.delete(this.ids[i]!);
    if (i !== last) {
      this.ids[i] = this.ids[last]!;
      this.times[i] = this.times[last]!;
      this.slot.set(this.ids[i]!, i);
    }
    this.ids.pop();
    this.times.pop();
    if (i < this.ids.length) {
      // The moved entry may belong above or below its new slot.
      this.up(i);
      this.down(i);
    }
  }

  private less(a: number, b: number): boolean {
    const ta = this.times[a]!;
    const tb = this.times[b]!;
    if (ta !== tb) return ta < tb;
    return this.ids[a]! < this.ids[b]!;
  }

  private swap(a: number, b: number): void {
    const ia = this.ids[a]!;
    const ib = this.ids[b]!;
    const ta = this.times[a]!;
    this.ids[a] = ib;
    this.ids[b] = ia;
    this.times[a] = this.times[b]!;
    this.times[b] = ta;
    this.slot.set(ib, a);
    this.slot.set(ia, b);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.ids.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const child = r < n && this.less(r, l) ? r : l;
      if (!this.less(child, i)) return;
      this.swap(i, child);
      i = child;
    }
  }
}
