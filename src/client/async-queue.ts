/**
 * A bounded FIFO between an event-driven producer and an async consumer.
 * The producer is told (via onHigh/onLow) to pause and resume, so the queue
 * never grows past its high-water mark by more than one burst.
 */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private ended = false;
  private failure: unknown;
  private paused = false;

  constructor(
    private readonly highWater: number,
    private readonly onHigh: () => void,
    private readonly onLow: () => void,
  ) {
    if (highWater < 1) throw new Error('AsyncQueue high-water mark must be positive');
  }

  push(item: T): void {
    if (this.ended) return;
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: item, done: false });
      return;
    }
    this.items.push(item);
    if (!this.paused && this.items.length >= this.highWater) {
      this.paused = true;
      this.onHigh();
    }
  }

  /** Ends the queue: after the buffered items, the consumer sees `done` (or `error`, if given). */
  close(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    if (this.waiter !== undefined && this.items.length === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      if (error !== undefined) w.reject(error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) {
      if (this.paused && this.items.length <= this.highWater / 2) {
        this.paused = false;
        this.onLow();
      }
      return Promise.resolve({ value: item, done: false });
    }
    if (this.ended) {
      if (this.failure !== undefined) return Promise.reject(this.failure);
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.waiter !== undefined) throw new Error('AsyncQueue supports a single consumer');
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }
}
