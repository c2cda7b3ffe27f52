// Histogram bucket bounds as etcd declares them (Go's prometheus.ExponentialBuckets):
// `count` upper bounds starting at `start`, each `factor` times the previous.

export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  const out: number[] = [];
  let bound = start;
  for (let i = 0; i < count; i++) {
    // Rounded to 12 significant digits so 0.1 * 2^k prints as etcd's (0.8, not 0.8000000000000002).
    out.push(Number(bound.toPrecision(12)));
    bound *= factor;
  }
  return out;
}

/** Go client's DefBuckets, which grpc-prometheus's handling-time histogram uses. */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
