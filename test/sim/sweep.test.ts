import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SWEEP = fileURLToPath(new URL('./sweep.js', import.meta.url));

function sweep(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [SWEEP, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('sweep CLI: a passing sweep exits 0 with a summary', () => {
  const r = sweep(['--seeds', '5', '--start', '10', '--ticks', '100']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /5 seeds ok \[10\.\.14\]/);
});

test('sweep CLI: a failure names the seed and a replay command that reproduces it', () => {
  const r = sweep(['--seeds', '20', '--start', '3', '--sabotage', 'staleReads']);
  assert.equal(r.code, 1, r.out);
  const fail = /FAIL seed (\d+): (.*)/.exec(r.out);
  assert.ok(fail, r.out);
  const replay = /replay: node dist\/test\/sim\/sweep\.js (.*?) --trace/.exec(r.out);
  assert.ok(replay, r.out);
  assert.match(replay[1]!, new RegExp(`--seed ${fail[1]} `));
  const again = sweep([...replay[1]!.split(' '), '--trace']);
  assert.equal(again.code, 1);
  assert.ok(again.out.includes(`FAIL seed ${fail[1]}: Error: ${fail[2]}`), again.out.slice(-2000));
  assert.match(again.out, /\[t=\d+\] tick n1/, 'the trace prints events');
});

test('sweep CLI: bad arguments exit 2 with usage', () => {
  const r = sweep(['--seeds', 'x']);
  assert.equal(r.code, 2);
  assert.match(r.out, /usage: sweep\.js/);
});
