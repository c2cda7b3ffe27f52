// A defragmentation copies the backend while reads and writes go on, then swaps the file in
// a short section during which applying is paused and reads wait. Concurrent requests share
// one run.
export class DefragGate {
  private running: Promise<void> | undefined;
  private swapping: Promise<void> | undefined;

  /**
   * The swap in progress, if any: reads must wait for it (the file is being replaced). Callers
   * on the read path await it only when there is one: an unconditional await would cost every
   * read a microtask.
   */
  current(): Promise<void> | undefined {
    return this.swapping;
  }

  /** The whole defragmentation in progress (copy and swap), if any. */
  inProgress(): Promise<void> | undefined {
    return this.running;
  }

  /** Runs `defrag` unless one is running already, in which case it joins that one. */
  run(defrag: () => Promise<void>): Promise<void> {
    this.running ??= defrag().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Runs the swap section `fn`; current() returns it until it settles. */
  swap(fn: () => Promise<void>): Promise<void> {
    const swapping = fn().finally(() => {
      if (this.swapping === swapping) this.swapping = undefined;
    });
    this.swapping = swapping;
    return swapping;
  }
}
