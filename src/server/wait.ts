// Requests waiting for their raft entry to be applied, keyed by request id.
// The applier resolves a waiter with the result of applying the entry; a
// request that gives up (timeout, shutdown) removes its waiter so the map
// never holds more than `maxPending` entries.

export class TooManyWaitersError extends Error {}

interface Waiter {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

export class WaitRegistry {
  private readonly waiters = new Map<bigint, Waiter>();

  constructor(private readonly maxPending: number) {
    if (maxPending <= 0) throw new Error('WaitRegistry: maxPending must be positive');
  }

  get size(): number {
    return this.waiters.size;
  }

  /** Registers `id`; the promise settles when trigger/fail is called for it. */
  register(id: bigint): Promise<unknown> {
    if (this.waiters.has(id)) throw new Error(`WaitRegistry: duplicate request id ${id}`);
    if (this.waiters.size >= this.maxPending) throw new TooManyWaitersError('too many pending requests');
    return new Promise((resolve, reject) => {
      this.waiters.set(id, { resolve, reject });
    });
  }

  has(id: bigint): boolean {
    return this.waiters.has(id);
  }

  trigger(id: bigint, value: unknown): void {
    const w = this.waiters.get(id);
    if (w === undefined) return;
    this.waiters.delete(id);
    w.resolve(value);
  }

  fail(id: bigint, err: Error): void {
    const w = this.waiters.get(id);
    if (w === undefined) return;
    this.waiters.delete(id);
    w.reject(err);
  }

  failAll(err: Error): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const w of all) w.reject(err);
  }
}
