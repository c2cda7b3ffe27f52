/**
 * Bounded queue of decoded request messages for client- and bidi-streaming
 * calls, consumed by the handler as an AsyncIterable. When the handler falls
 * behind, the queue asks the transport to pause reading (HTTP/2 flow control
 * then stops the client), and to resume once it has drained.
 */
export interface FlowControl {
  pause(): void;
  resume(): void;
}

export class RequestQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private head = 0;
  private waiter: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
  private done = false;
  private failure: { error: unknown } | undefined;
  private paused = false;

  constructor(
    private readonly flow: FlowControl,
    /** Pause reading at this many queued messages. */
    private readonly highWater = 64,
  ) {
    if (!(highWater >= 1)) throw new RangeError('highWater must be >= 1');
  }

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    if (this.done || this.failure) return;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      w.resolve({ value: item, done: false });
      return;
    }
    this.items.push(item);
    if (this.length >= this.highWater && !this.paused) {
      this.paused = true;
      this.flow.pause();
    }
  }

  /** The client half-closed: the iterator ends after the queued items. */
  end(): void {
    this.done = true;
    this.settleWaiter();
  }

  /** The call failed or was cancelled: the iterator throws `error`. */
  fail(error: unknown): void {
    if (this.failure) return;
    this.failure = { error };
    this.items.length = 0;
    this.head = 0;
    this.settleWaiter();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.length > 0) return Promise.resolve({ value: this.shift(), done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) throw new Error('RequestQueue: concurrent next() calls');
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** The handler stopped iterating (break/return): drop further input. */
  return(): Promise<IteratorResult<T>> {
    this.done = true;
    this.items.length = 0;
    this.head = 0;
    this.resumeIfPaused();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private shift(): T {
    const item = this.items[this.head]!;
    this.head++;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    if (this.length <= this.highWater >>> 1) this.resumeIfPaused();
    return item;
  }

  private resumeIfPaused(): void {
    if (!this.paused) return;
    this.paused = false;
    this.flow.resume();
  }

  private settleWaiter(): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = undefined;
    if (this.failure) w.reject(this.failure.error);
    else w.resolve({ value: undefined, done: true });
  }
}
