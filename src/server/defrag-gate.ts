// Defragmentation swaps the backend file: reads must wait for it and applying
// is paused meanwhile. Concurrent requests share one run.
export class DefragGate {
  private running: Promise<void> | undefined;

  /** Resolves when no defragmentation is running (at once if none is). */
  async idle(): Promise<void> {
    if (this.running !== undefined) await this.running;
  }

  /** Runs `defrag` unless one is running already, in which case it joins that one. */
  run(defrag: () => Promise<void>): Promise<void> {
    this.running ??= defrag().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
