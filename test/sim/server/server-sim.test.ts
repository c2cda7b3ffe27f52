// The whole-server simulation in the test suite: a few hundred seeds with every
// fault on (crashes with torn WAL tails and lost backend batches, partitions,
// dropped/duplicated/reordered messages, clock skew, rates and jumps, slow and
// stalled disks, fsync errors, leader transfers, membership changes, raft
// snapshots to members that fell behind) under a KV, lease and watch workload;
// proof that a seed replays exactly; and proof that the checkers bite: each
// sabotage is caught within a few seeds.
//
// The sweeps run in a child process: node:test's async hooks make every promise
// cost more, and the simulator makes millions of them (2x slower in-process).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runServerSeed, SERVER_SABOTAGES } from './run.js';
import { describeResult, parseServerSimArgs, serverOptionsForSeed } from './sweep.js';

/** ~0.25 s of CPU each: 250 seeds fit in npm test's budget on one core. */
const SEEDS = Number(process.env.SERVER_SIM_SEEDS ?? 250);
const DURATION = '2000';
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

function sim(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

describe('whole-server simulation', { timeout: 600_000 }, () => {
  test(`${SEEDS} seeds with all faults are clean`, async (t) => {
    const r = await sim(['--seeds', String(SEEDS), '--duration', DURATION]);
    t.diagnostic(r.out.trim().split('\n').at(-1) ?? '');
    assert.equal(r.code, 0, r.out);
  });

  test('a seed replays exactly: same outcome, same log, twice', async () => {
    const args = parseServerSimArgs(['--duration', '3000']);
    const a = await runServerSeed(serverOptionsForSeed(3, args));
    const b = await runServerSeed(serverOptionsForSeed(3, args));
    assert.equal(describeResult(b), describeResult(a));
    assert.deepEqual(b.log, a.log);
  });

  test(`the checkers catch every sabotage (${SERVER_SABOTAGES.join(', ')}) within a few seeds`, async (t) => {
    const r = await sim(['--sabotage-table', '--seeds', '20', '--duration', DURATION]);
    for (const line of r.out.trim().split('\n')) t.diagnostic(line);
    assert.equal(r.code, 0, `a sabotage went unnoticed for 20 seeds:\n${r.out}`);
    for (const s of SERVER_SABOTAGES) assert.match(r.out, new RegExp(`^${s} +caught after \\d+`, 'm'));
  });
});
