// Defragmentation swaps the backend file: reads must wait for it and applying
// is paused meanwhile. Concurrent requests share one run.
export class DefragGate {
  private running: Promise<void> | undefined;

  /**
   * The running defragmentation, if any. Callers on the read path await it only
   * when there is one: an unconditional await would cost every read a microtask.
   */
  current(): Promise<void> | undefined {
    return this.running;
  }

  /** Runs `defrag` unless one is running already, in which case it joins that one. */
  run(defrag: () => Promise<void>): Promise<void> {
    this.running ??= defrag().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
