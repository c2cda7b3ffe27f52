import assert from 'node:assert/strict';
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Snapshot } from '../raft/types.js';
import { bytes, capturingLogger, withTempDir } from '../wal/testkit.js';
import { NoSnapshotError, Snapshotter } from './index.js';

function snap(term: number, index: number, size = 1000): Snapshot {
  return {
    metadata: { term, index, confState: { voters: [1n, 2n, 3n], learners: [0xabcdef0123456789n] } },
    data: bytes(size, index),
  };
}

describe('snapshotter', () => {
  test('save then load returns the same snapshot under etcd-style names', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'snap');
      const s = new Snapshotter(dir);
      await s.save(snap(2, 0x1234));
      assert.deepEqual(await readdir(dir), ['0000000000000002-0000000000001234.snap']);
      assert.deepEqual(await s.load({ term: 2, index: 0x1234 }), snap(2, 0x1234));
      assert.deepEqual(await s.loadNewest(), snap(2, 0x1234));
    });
  });

  test('the newest snapshot wins; none at all gives undefined', async () => {
    await withTempDir(async (root) => {
      const s = new Snapshotter(join(root, 'snap'));
      assert.equal(await s.loadNewest(), undefined);
      await s.save(snap(1, 100));
      await s.save(snap(3, 300));
      await s.save(snap(2, 200));
      assert.deepEqual((await s.loadNewest())?.metadata.index, 300);
    });
  });

  test('a corrupt newest snapshot is logged by name, renamed .broken, and the next one is used', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'snap');
      const { log, lines } = capturingLogger();
      const s = new Snapshotter(dir, log);
      await s.save(snap(1, 100));
      await s.save(snap(1, 200));
      const newest = join(dir, '0000000000000001-00000000000000c8.snap');
      const buf = await readFile(newest);
      buf[buf.length - 10]! ^= 0x01;
      await writeFile(newest, buf);

      const got = await s.loadNewest();
      assert.deepEqual(got, snap(1, 100));
      const errors = lines.filter((l) => l.level === 'error');
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.fields?.file, newest);
      assert.match(String(errors[0]!.fields?.error), /checksum/);
      assert.deepEqual((await readdir(dir)).sort(), [
        '0000000000000001-0000000000000064.snap',
        '0000000000000001-00000000000000c8.snap.broken',
      ]);
      await assert.rejects(s.load({ term: 1, index: 200 }), NoSnapshotError);
    });
  });

  test('load throws on a truncated or missing file', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'snap');
      const s = new Snapshotter(dir);
      await s.save(snap(1, 5));
      await truncate(join(dir, '0000000000000001-0000000000000005.snap'), 100);
      await assert.rejects(s.load({ term: 1, index: 5 }), /truncated/);
      await assert.rejects(s.load({ term: 1, index: 6 }), NoSnapshotError);
      assert.equal(await s.loadNewest(), undefined, 'the only snapshot is broken');
    });
  });

  test('purge keeps the newest N', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'snap');
      const s = new Snapshotter(dir);
      for (let i = 1; i <= 5; i++) await s.save(snap(1, i * 10, 10));
      await writeFile(join(dir, 'stale.snap.tmp'), 'x');
      await s.purge(2);
      assert.deepEqual((await readdir(dir)).sort(), [
        '0000000000000001-0000000000000028.snap',
        '0000000000000001-0000000000000032.snap',
      ]);
    });
  });
});
