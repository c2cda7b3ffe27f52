// Medians of repeated etcdbench runs, and the cells of the comparison tables.
import type { BenchResult } from './etcdbench.js';

export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function medianResult(rs: BenchResult[]): BenchResult {
  const out: BenchResult = {
    ops_per_s: median(rs.map((r) => r.ops_per_s)),
    p50_ms: median(rs.map((r) => r.p50_ms)),
    p99_ms: median(rs.map((r) => r.p99_ms)),
    errors: rs.reduce((n, r) => n + r.errors, 0),
  };
  const puts = rs.flatMap((r) => (r.put === undefined ? [] : [r.put]));
  if (puts.length > 0) {
    out.put = {
      ops_per_s: median(puts.map((p) => p.ops_per_s)),
      p50_ms: median(puts.map((p) => p.p50_ms)),
      p99_ms: median(puts.map((p) => p.p99_ms)),
    };
  }
  if (rs.some((r) => r.extra?.lost_events !== undefined)) {
    out.extra = {
      lost_events: rs.reduce((n, r) => n + (r.extra?.lost_events ?? 0), 0),
      expected_events: rs.reduce((n, r) => n + (r.extra?.expected_events ?? 0), 0),
    };
  }
  return out;
}

export function fmt(x: number, digits = 0): string {
  return x.toFixed(digits).padStart(9);
}

/** One server's outcome of a workload: the medians of its successful runs, or why it failed. */
export type Outcome = { ok: BenchResult; failedRuns: number; failure?: string } | { failure: string };

export function outcome(results: (BenchResult | Error)[]): Outcome {
  const ok = results.filter((r): r is BenchResult => !(r instanceof Error));
  const failed = results.filter((r): r is Error => r instanceof Error);
  const failure = failed[0]?.message;
  if (ok.length === 0) return { failure: failure ?? 'no runs' };
  return failure === undefined
    ? { ok: medianResult(ok), failedRuns: 0 }
    : { ok: medianResult(ok), failedRuns: failed.length, failure };
}

/** ops/s, p50 and p99 of an outcome, or FAILED in the same width. */
export function cells(o: Outcome, opsWidth: number): string {
  if ('ok' in o)
    return `${fmt(o.ok.ops_per_s).padStart(opsWidth)}  ${fmt(o.ok.p50_ms, 2)} ${fmt(o.ok.p99_ms, 2)}`;
  return 'FAILED'.padStart(opsWidth + 21);
}

/** What the cells do not show: a failure, failed runs, request errors, lost watch events. */
export function notes(label: string, o: Outcome): string[] {
  const out: string[] = [];
  if (!('ok' in o)) out.push(`${label} FAILED: ${o.failure}`);
  else {
    if (o.failedRuns > 0) out.push(`${label}: ${o.failedRuns} run(s) failed (${o.failure})`);
    if (o.ok.errors > 0) out.push(`${label} errors ${o.ok.errors}`);
    if (o.ok.extra?.lost_events !== undefined)
      out.push(`${label} lost ${o.ok.extra.lost_events}/${o.ok.extra.expected_events} events`);
    if (o.ok.put !== undefined) out.push(`${label} put p99 ${o.ok.put.p99_ms.toFixed(2)} ms`);
  }
  return out;
}
