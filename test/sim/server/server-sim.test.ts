// The whole-server simulation in the test suite: a handful of seeds with every
// fault on (crashes with torn WAL tails and lost backend batches, partitions,
// dropped/duplicated/reordered messages), and proof that the checkers bite:
// each sabotage is caught within a few seeds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runServerSeed } from './run.js';
import { describeResult, parseServerSimArgs, serverOptionsForSeed } from './sweep.js';

const SEEDS = Number(process.env.SERVER_SIM_SEEDS ?? 12);

describe('whole-server simulation', { timeout: 600_000 }, () => {
  test(`${SEEDS} seeds with all faults are clean`, async (t) => {
    const args = parseServerSimArgs(['--duration', '4000']);
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await runServerSeed(serverOptionsForSeed(seed, args));
      t.diagnostic(describeResult(r));
      assert.deepEqual(
        r.problems,
        [],
        `${describeResult(r)}\nreplay: npm run sim -- --server --seed ${seed} --duration 4000 --trace`,
      );
      assert.ok(r.writesAcked > 0, `seed ${seed} acknowledged no write`);
    }
  });

  test('a seed replays exactly: same outcome, same log, twice', async () => {
    const args = parseServerSimArgs(['--duration', '3000']);
    const a = await runServerSeed(serverOptionsForSeed(3, args));
    const b = await runServerSeed(serverOptionsForSeed(3, args));
    assert.equal(describeResult(b), describeResult(a));
    assert.deepEqual(b.log, a.log);
  });

  for (const sabotage of ['lyingFsync', 'staleReads', 'duplicateWatchEvent'] as const) {
    test(`the checkers catch the ${sabotage} sabotage within a few seeds`, async () => {
      const args = parseServerSimArgs(['--duration', '4000', '--sabotage', sabotage]);
      let caughtAt: number | undefined;
      for (let seed = 1; seed <= 8 && caughtAt === undefined; seed++) {
        const r = await runServerSeed(serverOptionsForSeed(seed, args));
        if (r.problems.length > 0) caughtAt = seed;
      }
      assert.notEqual(caughtAt, undefined, `${sabotage} went unnoticed for 8 seeds`);
    });
  }
});
