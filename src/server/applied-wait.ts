// Callers waiting until the applied index reaches some value (linearizable
// reads wait for their read index). Waiters are kept sorted by index so each
// apply batch releases a prefix; the list is bounded.

interface IndexWaiter {
  index: number;
  resolve(): void;
  reject(err: Error): void;
}

export class AppliedIndexWaiters {
  private readonly waiters: IndexWaiter[] = [];
  private applied = 0;

  constructor(
    private readonly maxWaiters: number,
    initialApplied: number,
  ) {
    this.applied = initialApplied;
  }

  get appliedIndex(): number {
    return this.applied;
  }

  /** Resolves once the applied index is >= index. */
  wait(index: number): Promise<void> {
    if (index <= this.applied) return Promise.resolve();
    if (this.waiters.length >= this.maxWaiters)
      return Promise.reject(new Error('too many waiters for applied index'));
    return new Promise((resolve, reject) => {
      const w: IndexWaiter = { index, resolve, reject };
      // Insert keeping ascending order; most waiters arrive with growing indexes, so scan from the end.
      let at = this.waiters.length;
      while (at > 0 && (this.waiters[at - 1] as IndexWaiter).index > index) at--;
      this.waiters.splice(at, 0, w);
    });
  }

  /** Called by the applier after each batch. Indexes never go back. */
  advance(applied: number): void {
    if (applied < this.applied) throw new Error(`applied index went back: ${applied} < ${this.applied}`);
    this.applied = applied;
    let n = 0;
    while (n < this.waiters.length && (this.waiters[n] as IndexWaiter).index <= applied) n++;
    if (n === 0) return;
    for (const w of this.waiters.splice(0, n)) w.resolve();
  }

  failAll(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }
}
