// A real process killed with SIGKILL mid-stream: every acknowledged save must be there on reopen.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Wal } from './index.js';
import { withTempDir } from './testkit.js';

const CHILD = fileURLToPath(new URL('./crash-child.js', import.meta.url));

/** Runs the child until it has acknowledged at least `minAcked`, kills it, returns the highest acknowledged index. */
function runAndKill(dir: string, mode: 'create' | 'open', minAcked: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = 0;
    let buffered = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) acked = Math.max(acked, Number(l));
      if (acked >= minAcked) child.kill('SIGKILL');
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`child exited on its own: ${stderr}`));
    });
  });
}

test('kill -9 while saving: reopen has every acknowledged entry, contiguous', async () => {
  await withTempDir(async (root) => {
    const dir = join(root, 'wal');
    const opts = { segmentBytes: 8 * 1024 };
    let acked = await runAndKill(dir, 'create', 300);
    for (let round = 0; round < 3; round++) {
      const { wal, replay } = await Wal.open(dir, { index: 0, term: 0 }, undefined, opts);
      const last = replay.entries.at(-1)!.index;
      assert.ok(last >= acked, `round ${round}: acknowledged ${acked} but recovered only ${last}`);
      for (const [i, e] of replay.entries.entries()) assert.equal(e.index, i + 1);
      assert.ok(replay.hardState.commit <= last);
      await wal.close();
      acked = await runAndKill(dir, 'open', last + 200);
    }
  });
});
