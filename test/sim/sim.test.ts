// The seeded sweep as part of the test suite: 2,000 seeds in batches, so counts show per case.
// A failure names the seed; replay it with `npm run sim -- --seed S --trace`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runSeed } from './run.js';

const BATCHES = 8;
const SEEDS_PER_BATCH = 250;

function runBatch(first: number, count: number): { acked: number; reads: number } {
  let acked = 0;
  let reads = 0;
  for (let seed = first; seed < first + count; seed++) {
    try {
      const r = runSeed(seed);
      acked += r.writesAcked;
      reads += r.readsChecked;
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      assert.fail(`seed ${seed} failed: ${why}\n  replay: npm run sim -- --seed ${seed} --trace`);
    }
  }
  return { acked, reads };
}

describe('deterministic cluster simulation', () => {
  for (let b = 0; b < BATCHES; b++) {
    const first = 1 + b * SEEDS_PER_BATCH;
    test(`seeds ${first}..${first + SEEDS_PER_BATCH - 1}`, () => {
      const { acked, reads } = runBatch(first, SEEDS_PER_BATCH);
      // The workload must actually exercise the cluster, or the invariants prove little.
      assert.ok(acked > 10 * SEEDS_PER_BATCH, `only ${acked} writes acknowledged`);
      assert.ok(reads > 2 * SEEDS_PER_BATCH, `only ${reads} reads checked`);
    });
  }

  test('a seed replays exactly', () => {
    const trace = (seed: number): string[] => {
      const lines: string[] = [];
      runSeed(seed, { trace: (l) => lines.push(l) });
      return lines;
    };
    for (const seed of [3, 17, 42]) {
      const a = trace(seed);
      assert.ok(a.length > 1000);
      assert.deepEqual(trace(seed), a);
    }
  });
});
