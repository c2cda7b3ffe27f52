// The snapshotter on the simulated disk: a power loss at any point leaves the newest
// acknowledged snapshot (or a newer one) loadable, and never a damaged one.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { immediateDisk } from '../fs/disk-control.js';
import { mkdirDurable } from '../fs/durable-dir.js';
import { SimFs } from '../fs/sim-fs.js';
import { SteppedDisk } from '../fs/stepped-disk.js';
import type { Snapshot } from '../raft/types.js';
import { seededRandom } from '../util/seeded-random.js';
import { bytes } from '../wal/testkit.js';
import { Snapshotter } from './snapshotter.js';

const DIR = '/data/member/snap';

function snap(index: number): Snapshot {
  return {
    metadata: { index, term: 2, confState: { voters: [1n], learners: [] } },
    data: bytes(300 + ((index * 131) % 3000), index),
  };
}

describe('Snapshotter on the simulated disk', () => {
  test('power loss at random points (seeds 1-60)', async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const random = seededRandom(seed);
      const disk = new SteppedDisk();
      const fs = new SimFs();
      // The snapshotter's own mkdir does not fsync the parent: the directory must exist durably
      // beforehand (see the report on bootstrap in docs/decisions/0015-simulated-disk.md).
      await mkdirDurable(fs, DIR);
      fs.scheduler = disk;
      let acked = 0;
      const run = (async () => {
        const s = new Snapshotter(DIR, undefined, { fs });
        for (let i = 1; ; i++) {
          await s.save(snap(i * 10));
          acked = i * 10;
          if (random() < 0.3) await s.purge(2);
        }
      })();
      run.catch(() => {});
      const steps = Math.floor(random() * 300);
      for (let i = 0; i < steps; i++) {
        disk.step(random);
        await new Promise<void>((r) => setImmediate(r));
      }
      const after = fs.crash(random);
      after.scheduler = immediateDisk;
      const loaded = await new Snapshotter(DIR, undefined, { fs: after }).loadNewest();
      const where = `seed ${seed}: acked ${acked}, loaded ${loaded?.metadata.index}`;
      if (acked === 0) continue;
      assert.ok(loaded !== undefined && loaded.metadata.index >= acked, where);
      assert.deepEqual(loaded, snap(loaded.metadata.index), where);
    }
  });
});
