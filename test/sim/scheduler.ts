// Simulated time: a bounded binary heap of events ordered by (time, insertion seq).
// The seq tiebreak keeps equal-time events in a fixed order, so replays are exact.

export interface Scheduled<E> {
  time: number;
  seq: number;
  event: E;
}

export class Scheduler<E> {
  private heap: Scheduled<E>[] = [];
  private seq = 0;
  private nowTime = 0;

  constructor(private readonly maxPending: number) {}

  get now(): number {
    return this.nowTime;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Schedule `event` to happen `delay` time units from now. */
  after(delay: number, event: E): void {
    if (!(delay >= 0)) throw new Error(`scheduler: negative delay ${delay}`);
    if (this.heap.length >= this.maxPending)
      throw new Error(`scheduler: more than ${this.maxPending} events`);
    this.heap.push({ time: this.nowTime + delay, seq: this.seq++, event });
    this.siftUp(this.heap.length - 1);
  }

  /** Time of the next event, without removing it. */
  peekTime(): number | undefined {
    return this.heap[0]?.time;
  }

  /** Remove and return the next event, advancing the clock to its time. */
  pop(): Scheduled<E> | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    if (top.time < this.nowTime) throw new Error('scheduler: time went backwards');
    this.nowTime = top.time;
    return top;
  }

  private less(i: number, j: number): boolean {
    const x = this.heap[i]!;
    const y = this.heap[j]!;
    return x.time < y.time || (x.time === y.time && x.seq < y.seq);
  }

  private swap(i: number, j: number): void {
    const t = this.heap[i]!;
    this.heap[i] = this.heap[j]!;
    this.heap[j] = t;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
