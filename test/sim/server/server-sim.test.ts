// The whole-server simulation in the test suite: a few hundred seeds with every
// fault on (crashes with torn WAL tails and lost backend batches, partitions,
// dropped/duplicated/reordered messages, clock skew, rates and jumps, slow and
// stalled disks, fsync errors, leader transfers) under a KV, lease and watch
// workload; proof that a seed replays exactly; and proof that the checkers
// bite: each sabotage is caught within a few seeds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runServerSeed, SERVER_SABOTAGES } from './run.js';
import { describeResult, parseServerSimArgs, sabotageTable, serverOptionsForSeed } from './sweep.js';

/** ~0.3 s of CPU each on the shared CI VM: 250 seeds fit in npm test's budget on one core. */
const SEEDS = Number(process.env.SERVER_SIM_SEEDS ?? 250);
const DURATION = '2000';

describe('whole-server simulation', { timeout: 600_000 }, () => {
  test(`${SEEDS} seeds with all faults are clean`, async (t) => {
    const args = parseServerSimArgs(['--duration', DURATION]);
    let ops = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await runServerSeed(serverOptionsForSeed(seed, args));
      assert.deepEqual(
        r.problems,
        [],
        `${describeResult(r)}\nreplay: npm run sim -- --server --seed ${seed} --duration ${DURATION} --trace`,
      );
      assert.ok(r.writesAcked > 0, `seed ${seed} acknowledged no write`);
      ops += r.opsChecked;
    }
    t.diagnostic(`${SEEDS} seeds, ${ops} operations checked`);
  });

  test('a seed replays exactly: same outcome, same log, twice', async () => {
    const args = parseServerSimArgs(['--duration', '3000']);
    const a = await runServerSeed(serverOptionsForSeed(3, args));
    const b = await runServerSeed(serverOptionsForSeed(3, args));
    assert.equal(describeResult(b), describeResult(a));
    assert.deepEqual(b.log, a.log);
  });

  test(`the checkers catch every sabotage (${SERVER_SABOTAGES.join(', ')}) within a few seeds`, async (t) => {
    const table = await sabotageTable(parseServerSimArgs(['--duration', DURATION]), 10);
    for (const row of table) t.diagnostic(`${row.sabotage}: caught after ${row.caughtAfter ?? 'never'} — ${row.problem}`);
    assert.deepEqual(
      table.filter((row) => row.caughtAfter === undefined).map((row) => row.sabotage),
      [],
      'went unnoticed for 10 seeds',
    );
  });
});
