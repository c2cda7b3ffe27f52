// Request statistics of `etcdctl check`, computed as etcd's pkg/report does: latencies of the
// requests that succeeded, failures counted by their error text, requests per second over the
// time from the start of the run to the last result.

export interface CheckStats {
  /** Successful requests. */
  count: number;
  /** Seconds. */
  slowest: number;
  average: number;
  stddev: number;
  /** Successful requests per second of the whole run. */
  rps: number;
  /** Error text -> how many requests failed with it, in first-seen order. */
  errors: Map<string, number>;
}

export class CheckReport {
  private readonly latencies: number[] = [];
  private readonly errors = new Map<string, number>();
  private readonly started = performance.now();

  /** Records one request: its duration in seconds, or the text of its failure. */
  record(result: { seconds: number } | { error: string }): void {
    if ('error' in result) this.errors.set(result.error, (this.errors.get(result.error) ?? 0) + 1);
    else this.latencies.push(result.seconds);
  }

  /** The statistics as of now (call once the last request has been recorded). */
  stats(): CheckStats {
    const totalSeconds = (performance.now() - this.started) / 1000;
    const n = this.latencies.length;
    let sum = 0;
    let slowest = 0;
    for (const l of this.latencies) {
      sum += l;
      if (l > slowest) slowest = l;
    }
    // As etcd's report: with no successful request the average and deviation are NaN.
    const average = sum / n;
    let squares = 0;
    for (const l of this.latencies) squares += (l - average) ** 2;
    return {
      count: n,
      slowest,
      average,
      stddev: Math.sqrt(squares / n),
      rps: n / totalSeconds,
      errors: new Map(this.errors),
    };
  }
}

/** Go's %f: six decimals, NaN and infinities spelled as Go spells them. */
export function goFixed6(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return '+Inf';
  if (x === Number.NEGATIVE_INFINITY) return '-Inf';
  return x.toFixed(6);
}
